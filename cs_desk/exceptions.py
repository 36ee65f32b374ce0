"""Domain errors with stable codes. Services raise them; the API turns them into
400 responses carrying the code, forms into field errors."""


class ApplicationError(Exception):
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field


class InvalidTransition(ApplicationError):
    code = "invalid_transition"
