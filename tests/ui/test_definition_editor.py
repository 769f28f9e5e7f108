"""The assumptions line under the economics charts."""
from __future__ import annotations

from segmentation.definition import default_definition
from ui.definition_editor import assumptions_text


def test_the_assumptions_line_names_the_definition_as_the_sidebar_does():
    # An edit keeps meta.name ("Default"); the sidebar calls the session's definition "Default (edited)".
    line = assumptions_text(default_definition(), "$", "Default (edited)")
    assert line.startswith("Assumptions (Default (edited)): gross margin 80%; support $")
