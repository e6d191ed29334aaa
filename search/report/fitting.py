"""Tables that fit the terminal without losing a digit or an id.

A table wider than the console is printed as several, one after the other: each starts with the
key columns (the trial, the run directory) and takes as many of the other columns, in order, as
fit. Ids and numbers never wrap (a folded ``0.000`` / ``9398`` reads as two values, a cut id
cannot be copied); a column of prose (a status, a list of values) may wrap at its words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from search.core.console import say


@dataclass(frozen=True)
class Column:
    """One column: its header, which side it is justified to, and whether it may wrap at words
    (prose; never an id or a number)."""

    header: str
    justify: str = "right"
    wrap: bool = False


def make_table(columns: Sequence[Column], rows: Sequence[Sequence[str]],
               title: str | None = None, width: int | None = None) -> Table:
    """basin's table style: no box (its edges cost a column each), one space between columns,
    a bold underlined header, the title on the left. With ``width``, prose columns are given
    widths that fit it, never below their longest word (Rich, left to squeeze a table, narrows
    them evenly and would fold a number)."""
    table = Table(title=title, box=None, padding=(0, 1), collapse_padding=True, pad_edge=False,
                  header_style="bold underline", title_justify="left")
    widths = _widths(columns, rows, width) if width else [None] * len(columns)
    for column, fixed in zip(columns, widths):
        table.add_column(column.header, justify=column.justify,  # type: ignore[arg-type]
                         no_wrap=not column.wrap, overflow="fold", width=fixed)
    for row in rows:
        table.add_row(*row)
    return table


def fitted_tables(columns: Sequence[Column], rows: Sequence[Sequence[str]], console: Console,
                  title: str | None = None, keys: int = 1) -> list[Table]:
    """The table, or, when it is too wide for the console, tables of the ``keys`` first columns
    and as many of the others as fit (at least one each), in order; the title on the first."""
    width = console.width
    groups: list[list[int]] = []
    group: list[int] = []
    for index in range(keys, len(columns)):
        if group and _least_width(columns, rows, [*range(keys), *group, index]) > width:
            groups.append(group)
            group = []
        group.append(index)
    groups.append(group)
    return [make_table([columns[i] for i in chosen], [[row[i] for i in chosen] for row in rows],
                       title if number == 0 else None, width)
            for number, chosen in enumerate([*range(keys), *g] for g in groups)]


def print_fitted(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]],
                 title: str | None = None, keys: int = 1) -> None:
    """Print ``fitted_tables``, the title first as prose (wrapped at words on a terminal; a
    table's own title line would be cut by the terminal mid-word)."""
    if title:
        say(console, title)
    for table in fitted_tables(columns, rows, console, None, keys):
        console.print(table)


def _texts(column: Column, index: int, rows: Sequence[Sequence[str]]) -> list[str]:
    return [column.header, *(Text.from_markup(row[index]).plain for row in rows)]


def _natural(texts: list[str]) -> int:
    return max(cell_len(text) for text in texts)


def _least(column: Column, texts: list[str]) -> int:
    """The narrowest the column can be with every word whole: its widest cell, or, for prose,
    its longest word."""
    if not column.wrap:
        return _natural(texts)
    return max((cell_len(word) for text in texts for word in text.split()), default=1)


def _least_width(columns: Sequence[Column], rows: Sequence[Sequence[str]],
                 chosen: list[int]) -> int:
    """The narrowest the table of these columns can be (one space between columns)."""
    return sum(_least(columns[i], _texts(columns[i], i, rows)) for i in chosen) + len(chosen) - 1


def _widths(columns: Sequence[Column], rows: Sequence[Sequence[str]],
            width: int) -> list[int | None]:
    """Fixed widths for the prose columns when the table is wider than ``width``: the widest
    are narrowed first, down to a common level, none below its longest word. None: as Rich
    measures it (every column when the table fits)."""
    texts = [_texts(column, index, rows) for index, column in enumerate(columns)]
    natural = [_natural(t) for t in texts]
    room = width - (len(columns) - 1) - sum(n for n, c in zip(natural, columns) if not c.wrap)
    prose = [i for i, column in enumerate(columns) if column.wrap]
    if sum(natural[i] for i in prose) <= room or not prose:
        return [None] * len(columns)
    least = {i: _least(columns[i], texts[i]) for i in prose}

    def used(level: int) -> int:
        return sum(max(least[i], min(natural[i], level)) for i in prose)

    level = max(natural[i] for i in prose)
    while level > 1 and used(level) > room:
        level -= 1
    return [max(least[i], min(natural[i], level)) if i in least else None
            for i in range(len(columns))]
