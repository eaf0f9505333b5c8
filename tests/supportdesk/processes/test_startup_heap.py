"""What a process built at startup is left out of later garbage collections."""

import gc

from supportdesk.processes.startup_heap import freeze_startup_heap


def _tracked(thing: object) -> bool:
    return any(candidate is thing for candidate in gc.get_objects())  # generations 0-2, not the permanent one


def test_objects_alive_at_startup_are_no_longer_walked_and_new_ones_are():
    startup_domain = [{"intent": "greet"}]
    try:
        assert freeze_startup_heap() > 0
        assert not _tracked(startup_domain)
        request_object = [{"wamid": "wamid.1"}]
        assert _tracked(request_object)
    finally:
        gc.unfreeze()
    assert _tracked(startup_domain)
