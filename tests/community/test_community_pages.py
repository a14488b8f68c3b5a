"""Discussion, likes, follows, reports, joining challenges and the moderation queue, through the web UI."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opencall.accounts.models import User
from opencall.community.models import Comment, Follow, Like, Report
from opencall.ideas.models import Idea
from tests.factories import CommentFactory, IdeaFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def voting(challenge):
    challenge.phase = "community"
    challenge.save()
    return challenge


# Discussion ------------------------------------------------------------------------------------


def test_discussion_fragment_and_page(idea, as_user, participant):
    CommentFactory(idea=idea, body="First **thought**", author=participant)
    url = reverse("community:comment", args=[idea.pk])
    fragment = as_user(participant).get(url, **HTMX).content.decode()
    assert fragment.startswith('<section id="discussion"')
    assert "Discussion (1 comment)" in fragment
    assert "<p>First <strong>thought</strong></p>" in fragment
    page = as_user(participant).get(url).content.decode()
    assert "<html" in page and "Mushroom foam" in page


def test_post_comment_with_htmx_swaps_in_the_thread(idea, as_user, participant):
    response = as_user(participant).post(reverse("community:comment", args=[idea.pk]), {"body": "Love it"}, **HTMX)
    comment = Comment.objects.get()
    html = response.content.decode()
    assert (comment.author, comment.body, comment.parent) == (participant, "Love it", None)
    assert f'id="comment-{comment.pk}" class="comment depth-0 new"' in html
    assert Idea.objects.get(pk=idea.pk).comment_count == 1


def test_reply_is_threaded(idea, as_user, participant, team_member):
    parent = CommentFactory(idea=idea, author=participant, body="Question?")
    as_user(team_member).post(
        reverse("community:comment", args=[idea.pk]), {"body": "Answer.", "parent": parent.pk}, **HTMX
    )
    reply = Comment.objects.get(body="Answer.")
    assert reply.parent == parent
    html = as_user(participant).get(reverse("community:comment", args=[idea.pk]), **HTMX).content.decode()
    assert f'id="comment-{reply.pk}" class="comment depth-1"' in html
    assert html.index("Question?") < html.index("Answer.")


def test_comment_without_htmx_redirects_to_the_comment(idea, as_user, participant):
    response = as_user(participant).post(reverse("community:comment", args=[idea.pk]), {"body": "Plain"})
    assert response["Location"] == f"/ideas/{idea.pk}/#comment-{Comment.objects.get().pk}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": ""}, "Write something first."),
        ({"body": "   "}, "Write something first."),
        ({"body": "x" * 5001}, "Ensure this value has at most 5000 characters (it has 5001)."),
        ({"body": "ok", "parent": "abc"}, "Enter a whole number."),
        ({"body": "ok", "parent": "999999"}, "No such comment."),
    ],
)
def test_comment_errors_inline_and_nothing_saved(idea, as_user, participant, data, message):
    response = as_user(participant).post(reverse("community:comment", args=[idea.pk]), data, **HTMX)
    assert response.status_code == 200  # HTMX swaps only successful responses
    assert message in response.content.decode()
    assert Comment.objects.count() == 0
    plain = as_user(participant).post(reverse("community:comment", args=[idea.pk]), data)
    assert plain.status_code == 422
    assert message in plain.content.decode()


def test_reply_to_a_comment_on_another_idea_is_refused(idea, challenge, as_user, participant):
    elsewhere = CommentFactory(idea=IdeaFactory(challenge=challenge))
    html = (
        as_user(participant)
        .post(reverse("community:comment", args=[idea.pk]), {"body": "sneaky", "parent": elsewhere.pk}, **HTMX)
        .content.decode()
    )
    assert '<p class="form-errors" role="alert">Reply to: Not a comment on this idea.</p>' in html
    assert Comment.objects.count() == 1


def test_comments_closed_explained(idea, challenge, as_user, participant, visitor):
    challenge.phase = "closed"
    challenge.save()
    html = as_user(participant).get(reverse("community:comment", args=[idea.pk]), **HTMX).content.decode()
    assert "The discussion is closed in this phase." in html
    assert 'data-testid="comment-form"' not in html
    posted = as_user(participant).post(reverse("community:comment", args=[idea.pk]), {"body": "late"}, **HTMX)
    assert "The discussion is closed in this phase." in posted.content.decode()
    assert Comment.objects.count() == 0
    anonymous = as_user(visitor).get(reverse("community:comment", args=[idea.pk]), **HTMX).content.decode()
    assert "Log in to join the discussion." in anonymous


def test_script_in_a_comment_is_neutralised(idea, as_user, participant):
    as_user(participant).post(
        reverse("community:comment", args=[idea.pk]), {"body": "<script>alert(1)</script>"}, **HTMX
    )
    html = as_user(participant).get(reverse("community:comment", args=[idea.pk]), **HTMX).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("rows", [1, 3])
def test_discussion_query_count(idea, as_user, participant, rows, django_assert_num_queries):
    for i in range(rows):
        CommentFactory(idea=idea, author=UserFactory(), body=f"Comment {i}")
    client = as_user(participant)
    url = reverse("community:comment", args=[idea.pk])
    client.get(url, **HTMX)
    with django_assert_num_queries(11):
        html = client.get(url, **HTMX).content.decode()
    assert html.count('data-testid="comment"') == rows


# Likes and follows -----------------------------------------------------------------------------


def test_like_and_unlike_with_htmx(idea, voting, as_user, participant):
    url = reverse("community:like", args=[idea.pk])
    box = as_user(participant).get(url, **HTMX).content.decode()
    assert 'aria-pressed="false"' in box and "disabled" not in box
    liked = as_user(participant).post(url, {"like": "1"}, **HTMX).content.decode()
    assert '<span data-testid="like-count">1</span>' in liked and 'aria-pressed="true"' in liked
    again = as_user(participant).post(url, {"like": "1"}, **HTMX).content.decode()
    assert '<span data-testid="like-count">1</span>' in again
    assert Like.objects.filter(idea=idea, user=participant).count() == 1
    unliked = as_user(participant).post(url, {"like": "0"}, **HTMX).content.decode()
    assert '<span data-testid="like-count">0</span>' in unliked
    assert Like.objects.count() == 0
    assert Idea.objects.get(pk=idea.pk).like_count == 0


def test_like_disabled_outside_the_voting_phase(idea, as_user, participant, visitor):
    url = reverse("community:like", args=[idea.pk])
    box = as_user(participant).get(url, **HTMX).content.decode()
    assert "disabled" in box
    assert "Likes are open only during the community phase." in box
    refused = as_user(participant).post(url, {"like": "1"}, **HTMX).content.decode()
    assert 'role="alert"' in refused
    assert Like.objects.count() == 0
    assert "Log in to like ideas." in as_user(visitor).get(url, **HTMX).content.decode()


def test_like_without_htmx_redirects_back(idea, voting, as_user, participant):
    response = as_user(participant).post(reverse("community:like", args=[idea.pk]), {"like": "1"})
    assert response["Location"] == f"/ideas/{idea.pk}/"
    assert Like.objects.count() == 1


def test_follow_toggle(idea, as_user, participant):
    url = reverse("community:follow", args=[idea.pk])
    html = as_user(participant).post(url, {"follow": "1"}, **HTMX).content.decode()
    assert "Following" in html
    assert Follow.objects.filter(idea=idea, user=participant).count() == 1
    html = as_user(participant).post(url, {"follow": "0"}, **HTMX).content.decode()
    assert ">\n      Follow</button>" in html
    assert Follow.objects.count() == 0


def test_hidden_confidential_idea_cannot_be_liked_by_outsiders(idea, voting, as_user, participant):
    idea.confidential = True
    idea.save()
    assert as_user(participant).post(reverse("community:like", args=[idea.pk]), {"like": "1"}).status_code == 404
    assert Like.objects.count() == 0


# Reports ---------------------------------------------------------------------------------------


def test_report_idea_and_comment(idea, as_user, participant):
    html = (
        as_user(participant)
        .post(reverse("community:idea_report", args=[idea.pk]), {"reason": "Copied from elsewhere"}, **HTMX)
        .content.decode()
    )
    assert "Thank you. A moderator will look at your report." in html
    comment = CommentFactory(idea=idea)
    as_user(participant).post(reverse("community:comment_report", args=[comment.pk]), {"reason": "Rude"})
    assert sorted(Report.objects.values_list("reason", "idea_id", "comment_id")) == [
        ("Copied from elsewhere", idea.pk, None),
        ("Rude", None, comment.pk),
    ]


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "A reason is required."),
        ("r" * 501, "Ensure this value has at most 500 characters (it has 501)."),
    ],
)
def test_report_errors(idea, as_user, participant, reason, message):
    response = as_user(participant).post(reverse("community:idea_report", args=[idea.pk]), {"reason": reason})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Report.objects.count() == 0


def test_report_page_for_get(idea, as_user, participant, visitor):
    html = as_user(participant).get(reverse("community:idea_report", args=[idea.pk])).content.decode()
    assert "Report an idea" in html and 'name="reason"' in html
    assert as_user(visitor).get(reverse("community:idea_report", args=[idea.pk])).status_code == 302


# Joining a challenge ---------------------------------------------------------------------------


def test_join_and_leave_a_challenge(challenge, as_user, participant):
    url = reverse("community:challenge_join", args=[challenge.slug])
    response = as_user(participant).post(url, {"next": "/challenges/"})
    assert response["Location"] == "/challenges/"
    assert Follow.objects.filter(challenge=challenge, user=participant).count() == 1
    response = as_user(participant).post(url, {"join": "0", "next": "https://evil.example/"})
    assert response["Location"] == f"/challenges/{challenge.slug}/"
    assert Follow.objects.count() == 0
    assert as_user(participant).get(url).status_code == 405


def test_join_an_invisible_challenge_is_404(org, as_user, participant):
    from tests.factories import ChallengeFactory

    internal = ChallengeFactory(organisation=org, visibility="internal")
    assert as_user(participant).post(reverse("community:challenge_join", args=[internal.slug])).status_code == 404
    assert Follow.objects.count() == 0


# Moderation ------------------------------------------------------------------------------------


@pytest.fixture
def reported(idea, participant):
    comment = CommentFactory(idea=idea, body="Buy cheap watches", author=UserFactory(display_name="Spammer"))
    return Report.objects.create(reporter=participant, comment=comment, reason="Spam")


def test_queue_shows_reports_to_moderators_only(reported, as_user, moderator, participant, outsider):
    html = as_user(moderator).get(reverse("community:moderation")).content.decode()
    assert "Buy cheap watches" in html and "Spam" in html
    assert 'data-testid="block-form"' not in html  # challenge moderators do not block accounts
    assert as_user(participant).get(reverse("community:moderation")).status_code == 403
    assert (
        as_user(outsider)
        .post(reverse("community:report_resolve", args=[reported.pk]), {"decision": "dismiss"})
        .status_code
        == 404
    )


def test_hide_with_reason(reported, as_user, moderator, idea, participant):
    response = as_user(moderator).post(
        reverse("community:report_resolve", args=[reported.pk]), {"decision": "hide", "resolution": "Advertising"}
    )
    assert response["Location"] == reverse("community:moderation")
    reported.refresh_from_db()
    comment = reported.comment
    comment.refresh_from_db()
    assert (reported.status, comment.hidden, comment.hidden_reason) == ("hidden", True, "Advertising")
    html = as_user(participant).get(reverse("community:comment", args=[idea.pk]), **HTMX).content.decode()
    assert "Buy cheap watches" not in html
    hidden = as_user(moderator).get(reverse("community:moderation"), {"status": "hidden"}).content.decode()
    assert "Advertising" in hidden


def test_hide_without_reason_is_an_error(reported, as_user, moderator):
    response = as_user(moderator).post(
        reverse("community:report_resolve", args=[reported.pk]), {"decision": "hide", "resolution": ""}
    )
    assert response.status_code == 422
    assert "Required." in response.content.decode()
    reported.refresh_from_db()
    assert reported.status == "open"
    assert reported.comment.hidden is False


def test_dismiss(reported, as_user, moderator):
    as_user(moderator).post(reverse("community:report_resolve", args=[reported.pk]), {"decision": "dismiss"})
    reported.refresh_from_db()
    assert reported.status == "dismissed"
    assert "Nothing to handle." in as_user(moderator).get(reverse("community:moderation")).content.decode()


def test_site_moderator_blocks_an_account(reported, as_user):
    site_mod = UserFactory(is_moderator=True)
    spammer = reported.comment.author
    html = as_user(site_mod).get(reverse("community:moderation")).content.decode()
    assert 'data-testid="block-form"' in html
    empty = as_user(site_mod).post(reverse("community:user_block", args=[spammer.pk]), {"reason": ""})
    assert empty.status_code == 422
    assert "A reason is required." in empty.content.decode()
    assert User.objects.get(pk=spammer.pk).is_blocked is False
    as_user(site_mod).post(reverse("community:user_block", args=[spammer.pk]), {"reason": "Spam bot"})
    spammer.refresh_from_db()
    assert (spammer.is_blocked, spammer.blocked_reason) == (True, "Spam bot")


def test_challenge_moderator_cannot_block(reported, as_user, moderator):
    spammer = reported.comment.author
    response = as_user(moderator).post(reverse("community:user_block", args=[spammer.pk]), {"reason": "x"})
    assert response.status_code == 403
    spammer.refresh_from_db()
    assert spammer.is_blocked is False


@pytest.mark.parametrize("rows", [1, 3])
def test_moderation_query_count(idea, as_user, participant, rows, django_assert_num_queries):
    site_mod = UserFactory(is_moderator=True)
    for i in range(rows):
        comment = CommentFactory(idea=idea, author=UserFactory(), body=f"Bad {i}")
        Report.objects.create(reporter=participant, comment=comment, reason="Spam")
        Report.objects.create(reporter=participant, idea=IdeaFactory(challenge=idea.challenge), reason="Dup")
    client = as_user(site_mod)
    client.get(reverse("community:moderation"))
    # 7: the site moderator's memberships and challenge roles decide which challenges they may see.
    with django_assert_num_queries(7):
        html = client.get(reverse("community:moderation")).content.decode()
    assert html.count('data-testid="report"') == 2 * rows


def test_report_handled_twice_is_explained(reported, as_user, moderator):
    url = reverse("community:report_resolve", args=[reported.pk])
    as_user(moderator).post(url, {"decision": "dismiss"})
    again = as_user(moderator).post(url, {"decision": "hide", "resolution": "Spam"}, follow=True)
    assert "This report was already handled." in again.content.decode()
    reported.refresh_from_db()
    assert reported.status == "dismissed"
    assert reported.comment.hidden is False


def test_moderator_cannot_block_themselves(reported, as_user):
    site_mod = UserFactory(is_moderator=True)
    response = as_user(site_mod).post(reverse("community:user_block", args=[site_mod.pk]), {"reason": "oops"})
    assert response.status_code == 422
    assert "You cannot block yourself." in response.content.decode()
    site_mod.refresh_from_db()
    assert site_mod.is_blocked is False
