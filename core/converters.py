"""URL converters: `<id:pk>` is a database id, a positive integer that fits a
64-bit column. A longer run of digits is no id at all (404), never a query
that overflows the database's integer (a 500 on SQLite and PostgreSQL)."""

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(int(value))
