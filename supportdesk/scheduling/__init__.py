"""Appointment requests: business hours, time parsing and the appointments table."""
