"""Upstream's exception classes (pixyz_worker.exception), with the same names and hierarchy."""


class PixyzException(Exception):
    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{type(self).__name__}: {self.message}" if self.message else type(self).__name__


class InvalidBackendParameter(PixyzException):
    pass


class InvalidFile(PixyzException):
    pass


class InvalidYamlFile(InvalidFile):
    pass


class InvalidConfigurationFile(InvalidYamlFile):
    pass


class InternalError(PixyzException):
    pass


class PixyzWebError(PixyzException):
    def __init__(self, status_code: int = 0, url: str = "", message: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.url = url


class PixyzFileNotFound(PixyzException):
    pass


class PixyzSharedDirectoryNotFound(PixyzException):
    pass


class PixyzSecurityViolation(PixyzException):
    pass


class PixyzExecutionFault(PixyzException):
    pass


class PixyzSignalFault(PixyzExecutionFault):
    pass


class PixyzExitFault(PixyzExecutionFault):
    pass


class DiskStateAlreadyExists(PixyzException):
    pass


class PixyzTimeout(PixyzException):
    pass


class PixyzNotSerializable(PixyzException):
    """A value that cannot travel as JSON (a context, params, a result)."""


class SubTaskFailed(PixyzException):
    """A sub-task failed: its own message, its error type, and its id."""

    def __init__(self, message: str, error_type: str = "ScriptFailed", child_id: str | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.child_id = child_id

    def __str__(self) -> str:
        return self.message


class PixyzSdkMissing(ImportError):
    """`import pxz` in an interpreter without the Pixyz SDK."""
