from tests.builders import PATHS, make_ticket


def test_every_builder_path_reaches_its_status(session, people):
    for status in PATHS:
        ticket = make_ticket(session, people, status)
        assert ticket.status == status
