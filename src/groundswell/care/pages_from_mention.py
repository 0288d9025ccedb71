"""`POST /care/conversations/from-mention/{mention_id}`: the mention page's "Open a care
conversation" button (listening shows it once this route exists). Redirects to the
conversation that holds the mention, taking it into care first when none does."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from groundswell.care.access import conversation_link
from groundswell.care.from_mention import open_from_mention
from groundswell.identity.deps import ClockDep, DbDep, PageActor, SettingsDep, csrf_protect

router = APIRouter(include_in_schema=False)


@router.post("/care/conversations/from-mention/{mention_id}", dependencies=[Depends(csrf_protect)])
def from_mention(
    mention_id: int, actor: PageActor, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> RedirectResponse:
    with db.unit_of_work() as session:
        conversation_id = open_from_mention(
            session, actor, mention_id, now=clock.now(), settings=settings
        ).conversation.id
    return RedirectResponse(conversation_link(conversation_id), status_code=303)
