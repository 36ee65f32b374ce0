"""The start of a lane's process (``mail.imap.MailLanes``). A module of its own,
importing nothing of the project: a new process loads it before Django is set up."""


def lane_start() -> None:
    """In a lane's new process: Django, with the settings of the process that started it."""
    import django

    django.setup()


def lane_ready() -> bool:
    """Nothing: run once in each lane so that the reader knows it has started."""
    return True
