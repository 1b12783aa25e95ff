"""`[[trunk_group]]` and a queue's survey keys of site.toml, as the engine judges them before a save or
a reload (docs/architecture.md §24): each mistake named with its key and reason."""
import pytest

from firmware.config.site import check_site
from typed_toml import read_text

QUEUES = '[[queue]]\nname = "sales"\n[[queue]]\nname = "service"\n'
TRUNKS = {"trunk1", "trunk2", "trunk3", "trunk4"}


def errors(text: str) -> list[tuple[str, str]]:
    _, found = check_site(read_text(QUEUES + text, "site.toml"), trunks=TRUNKS)
    return [(e.key, e.reason) for e in found]


def test_a_group_that_fits_is_read_with_its_defaults():
    site, found = check_site(read_text(QUEUES + '[[trunk_group]]\nname = "rental"\nqueues = ["sales"]\n'
                                       'guaranteed = 1\n', "site.toml"), trunks=TRUNKS)
    assert not found
    (g,) = site.trunk_groups
    assert (g.name, g.queues, g.guaranteed, g.cap, g.overflow) == ("rental", ("sales",), 1, 4, "")


@pytest.mark.parametrize("text, key, reason", [
    ('[[trunk_group]]\nname = "a"\n', "name", "a trunk group matches calls by lines, numbers or queues"),
    ('[[trunk_group]]\nname = "a"\nqueues = ["sales"]\nguaranteed = 3\ncap = 2\n', "guaranteed",
     "3 trunks guaranteed is more than the cap of 2"),
    ('[[trunk_group]]\nname = "a"\nqueues = ["sales"]\ncap = 5\n', "cap", "above the maximum 4"),
    ('[[trunk_group]]\nname = "a"\nlines = ["trunk9"]\n', "lines", "no trunk named 'trunk9' on this board"),
    ('[[trunk_group]]\nname = "a"\nnumbers = ["400-820"]\n', "numbers", "is not a number the box can dial"),
    ('[[trunk_group]]\nname = "a"\nqueues = ["sales"]\noverflow = "queue:service"\n', "overflow",
     "expected node:<name> or hangup"),
    ('[[trunk_group]]\nname = "a"\nqueues = ["billing"]\n', "trunk_group", "names queues the site lacks: billing"),
    ('[[trunk_group]]\nname = "a"\nqueues = ["sales"]\n[[trunk_group]]\nname = "b"\nqueues = ["sales"]\n',
     "trunk_group", "a call belongs to one trunk group only; queues repeat"),
    ('[[trunk_group]]\nname = "a"\nqueues = ["sales"]\n[[trunk_group]]\nname = "a"\nqueues = ["service"]\n',
     "trunk_group", "trunk group names repeat"),
    (('[[trunk_group]]\nname = "a"\nqueues = ["sales"]\nguaranteed = 3\n[[trunk_group]]\nname = "b"\n'
      'queues = ["service"]\nguaranteed = 2\n'), "trunk_group", "the groups are guaranteed 5 trunks; the board has 4"),
    ('[[trunk_group]]\nname = "a"\nqueues = ["sales"]\nshare = 2\n', "share", "unknown key"),
])
def test_each_mistake_is_named_with_its_key(text, key, reason):
    found = errors(text)
    assert any(k.endswith(key) and reason in r for k, r in found), found


def test_a_queue_surveys_the_caller_only_with_a_survey_named():
    assert any(k.endswith("survey_after") and "needs survey" in r
               for k, r in errors('[[queue]]\nname = "billing"\nsurvey_after = true\n'))
    assert any(k.endswith("survey") and "is not a flow name" in r
               for k, r in errors('[[queue]]\nname = "billing"\nsurvey = "../main"\n'))
