"""The service's processes: the light web process and the dialogue workers that load the model."""
