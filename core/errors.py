"""Domain errors: raised by services with a translated message, turned into a
form error or a 4xx page by views."""


class DomainError(Exception):
    """A rule of the domain refuses the request. `code` is stable, `message` is for people."""

    code = "refused"
    status = 409

    def __init__(
        self, message: str, *, code: str | None = None, field: str | None = None
    ):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def __str__(self):
        return str(self.message)


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
