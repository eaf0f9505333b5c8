"""The web console's server-side logic (the WhatsApp simulator)."""
