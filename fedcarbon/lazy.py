"""Sequences that build each item only when asked: a million rows need no million objects.

Column readers (fedcarbon.accounting.activity_table), per-record results
(fedcarbon.accounting.engine) and column-wise adapters hand out list-like views over numpy
columns; this base gives them one indexing contract (ints, negative ints, slices,
IndexError out of range) so that each subclass only says how to build item i.
"""

from collections.abc import Sequence
from typing import TypeVar, overload

T = TypeVar("T")


class LazySequence(Sequence[T]):
    """A ``Sequence`` whose subclasses define ``__len__`` and ``_build(i)`` for 0 <= i < len."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _build(self, index: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._build(index)
