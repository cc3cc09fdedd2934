"""The bulk-invite CSV file: its columns (under the header spellings spreadsheets and HR exports
use), its lines with their line numbers, and the email cell that may hold several addresses as
Ally's invite box does. Reading checks the shape of the file only; what the values mean is
checked by connector.csv_import.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from connector.domains import normalise_domain

# Column -> header spellings, compared after lower-casing and dropping everything but letters
# and digits ("Email Address", "email_address" and "E-mail address" are all "emailaddress").
COLUMNS = {
    "email": ("email", "emails", "emailaddress", "emailaddresses", "mail", "workemail"),
    "given_name": ("firstname", "givenname", "first", "forename"),
    "family_name": ("lastname", "familyname", "surname", "last"),
    "title": ("title", "jobtitle", "position"),
    "team": ("team", "teamname"),
    "manager": ("manager", "manageremail", "manageremailaddress", "managersemail", "managersemailaddress"),
}
LABELS = {"email": "email", "given_name": "first name", "family_name": "last name", "title": "title",
          "team": "team", "manager": "manager email"}
PERSONAL = ("given_name", "family_name", "title")  # say something about one person only
DELIMITERS = (",", ";", "\t")
_ADDRESS_SEPARATORS = re.compile(r"[;,\s]+")
_LOCAL_PART = re.compile(r"^[^\s@<>()\[\]\\,;:\"]+$")
MAX_ADDRESS = 320


@dataclass
class Line:
    """One line of the file: its number (the line it starts on) and its values by column."""

    number: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)


@dataclass
class Sheet:
    lines: list[Line]
    problems: list[tuple[int, str]]  # problems of the file as a whole: (line number, text)


def read_sheet(text: str) -> Sheet:
    """The file's lines, by column; the first line names the columns. Blank lines are skipped."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = next((d for d in DELIMITERS if d in first), ",")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, [])
        columns, problems = _columns(header)
        lines = [] if "email" not in columns.values() else _lines(reader, columns)
    except csv.Error as exc:
        return Sheet([], [(reader.line_num, f"not readable as CSV: {exc}")])
    return Sheet(lines, problems)


def split_addresses(cell: str) -> list[str]:
    """The addresses in an email cell: several may be separated by semicolons, commas or spaces."""
    return [part for part in _ADDRESS_SEPARATORS.split(cell.strip()) if part]


def address_problem(address: str) -> str | None:
    """Why the text is not an email address this importer accepts, or None when it is one."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not _LOCAL_PART.match(local) or ".." in local or local.strip(".") != local:
        return "not a valid email address"
    try:
        normalise_domain(domain)
    except ValueError:
        return f"not a valid email address (the domain {domain!r} is not valid)"
    if len(address) > MAX_ADDRESS:
        return f"not a valid email address (longer than {MAX_ADDRESS} characters)"
    return None


def _columns(header: list[str]) -> tuple[dict[int, str], list[tuple[int, str]]]:
    """{cell index: column, or None for a column reported as a problem} and the header's
    problems (on line 1)."""
    spellings = {spelling: column for column, names in COLUMNS.items() for spelling in names}
    columns, problems = {}, []
    for index, name in enumerate(header):
        key = re.sub(r"[^a-z0-9]", "", name.lower())
        if not key:
            continue
        column = spellings.get(key)
        if column is None:
            problems.append((1, f"unknown column {name.strip()!r} (the columns are: {', '.join(LABELS.values())})"))
        elif column in columns.values():
            problems.append((1, f"two columns are {LABELS[column]!r} (the second is {name.strip()!r})"))
            column = None
        columns[index] = column  # None: a column already reported on line 1
    if "email" not in columns.values():
        problems.append((1, "no email column: the first line must name the columns, e.g. "
                            "email,first name,last name,title,team,manager email"))
    return columns, problems


def _lines(reader, columns: dict[int, str]) -> list[Line]:
    lines, ended = [], reader.line_num
    for cells in reader:
        line = Line(ended + 1, {})
        ended = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        for index, cell in enumerate(cells):
            if "\x00" in cell:  # no column can store it (PostgreSQL refuses NUL in text)
                line.problems.append(f"a NUL character in column {index + 1}")
            elif columns.get(index):
                line.values[columns[index]] = cell.strip()
            elif index not in columns and cell.strip():
                line.problems.append(f"a value in column {index + 1}, which the first line does not name")
        lines.append(line)
    return lines
