"""The attendants' side: tokens, devices and push notifications, alerts, the API's OpenAPI document."""
