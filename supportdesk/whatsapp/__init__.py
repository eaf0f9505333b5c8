"""The WhatsApp Cloud API peer: webhook payloads and signatures, limits, rendering, the Graph API client."""
