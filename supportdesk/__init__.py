"""Code shared by the Rasa channels and the action server: settings, storage, peers, rules."""
