"""Custom PynamoDB attributes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, TypeVar

from pynamodb.attributes import Attribute
from pynamodb.constants import STRING

E = TypeVar("E", bound=StrEnum)


class EnumAttribute(Attribute[E], Generic[E]):
    """Stores a ``StrEnum`` member as its string value and refuses anything else.

    Validation lives here, in the model layer, so no code path can write a value
    outside the enum and a corrupt item is reported rather than passed on.
    """

    attr_type = STRING

    def __init__(self, enum_type: type[E], **kwargs: Any) -> None:
        self.enum_type = enum_type
        super().__init__(**kwargs)

    def serialize(self, value: E) -> str:
        if not isinstance(value, self.enum_type):
            try:
                value = self.enum_type(value)
            except ValueError as exc:
                allowed = ", ".join(member.value for member in self.enum_type)
                raise ValueError(
                    f"{value!r} is not a valid {self.enum_type.__name__} ({allowed})"
                ) from exc
        return value.value

    def deserialize(self, value: str) -> E:
        return self.enum_type(value)
