"""The Atom feed of a policy's changes (`/<policy>/changes.atom`): published versions with what
changed and their impact, and reviewed drift of the pages they quote."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.utils.feedgenerator import Atom1Feed

from policies import catalog

if TYPE_CHECKING:  # generic in the stubs only
    _Feed = Feed[catalog.ChangeEntry, catalog.PolicyRef]
else:
    _Feed = Feed


class PolicyChangesFeed(_Feed):
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str) -> catalog.PolicyRef:
        try:
            return catalog.published_policy(slug).policy
        except catalog.PolicyNotFound:
            raise Http404("No such policy.") from None

    def title(self, obj: catalog.PolicyRef) -> str:
        return f"{obj.title}: changes"

    def link(self, obj: catalog.PolicyRef) -> str:
        return f"/{obj.slug}/"

    def subtitle(self, obj: catalog.PolicyRef) -> str:
        return "Published versions, what changed and for how many answers; reviewed rewordings."

    def items(self, obj: catalog.PolicyRef) -> list[catalog.ChangeEntry]:
        return catalog.changes(obj.slug)

    def item_title(self, item: catalog.ChangeEntry) -> str:
        return item.title

    def item_description(self, item: catalog.ChangeEntry) -> str:
        return item.text

    def item_link(self, item: catalog.ChangeEntry) -> str:
        return item.link

    def item_guid(self, item: catalog.ChangeEntry) -> str:
        return f"urn:eligibility-wizard:{item.key}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: catalog.ChangeEntry) -> dt.datetime:
        return item.at or dt.datetime.combine(item.day, dt.time(), tzinfo=dt.UTC)

    def item_updateddate(self, item: catalog.ChangeEntry) -> dt.datetime:
        return self.item_pubdate(item)
