"""Issue 14: a missed request (a wait that ran out unclaimed) stays in the inbox's Waiting tab until followed up."""

MISSED_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  const [tabs, views] = await Promise.all([import('/console/js/inbox-tabs.js'), import('/console/js/inbox-views.js')]);
  const me = {sub: 'ana'};
  const missed = {id: '5511', status: 'bot', missed_at: '2026-11-28T10:00:00.000Z'};
  const followedUp = {id: '5512', status: 'bot', missed_at: null};
  const claimed = {id: '5513', status: 'human', assigned_to: 'ana', missed_at: null};
  done({
    missed: ['waiting', 'mine', 'all'].map((tab) => tabs.inTab(missed, tab, me)),
    followedUp: ['waiting', 'mine', 'all'].map((tab) => tabs.inTab(followedUp, tab, me)),
    flags: [missed, followedUp, claimed].map(tabs.isMissed),
    words: views.statusWords(missed, me, Date.parse('2026-11-28T10:12:00.000Z')),
    order: views.sortConversations([followedUp, missed], me).map((c) => c.id),
  });
})().catch((error) => done({error: String(error)}));
"""


def test_a_missed_request_is_listed_with_the_waiting_ones(inbox):
    assert inbox.focus().execute_async_script(MISSED_SCRIPT) == {
        "missed": [True, False, True], "followedUp": [False, False, True], "flags": [True, False, False],
        "words": "Missed request · 12 min", "order": ["5511", "5512"],
    }
