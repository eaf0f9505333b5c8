"""The appointment form: read the customer's answers, check them, confirm, store, tell attendants.

`form` validates and extracts (time, service, yes/no, corrections), `asking` asks with the choices,
`submit` stores or forgets the request.
"""

from actions.scheduling.asking import ActionAskAppointmentService, ActionAskAppointmentTime
from actions.scheduling.form import ValidateAppointmentForm, texts_asked_for_their_hour
from actions.scheduling.submit import ActionResetAppointment, ActionSubmitAppointment, reset_events

__all__ = [
    "ActionAskAppointmentService",
    "ActionAskAppointmentTime",
    "ActionResetAppointment",
    "ActionSubmitAppointment",
    "ValidateAppointmentForm",
    "reset_events",
    "texts_asked_for_their_hour",
]
