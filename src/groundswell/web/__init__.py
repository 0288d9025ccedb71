"""The page shell: base templates, static assets, error rendering, middleware, the room
navigation. Rooms render their pages through `render`."""

from groundswell.web.rooms import ROOMS, Room
from groundswell.web.templating import render, templates

__all__ = ["ROOMS", "Room", "render", "templates"]
