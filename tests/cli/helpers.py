"""What the command line's tests share."""


def one_line_error(err: str) -> str:
    """The message of a refusal: one line, no traceback."""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err
