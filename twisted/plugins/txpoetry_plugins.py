"""twistd plugins for the txpoetry services (``twistd -n poetry``, ...)."""

from poetry.recipes import POETRY
from poetry.twistd import RecipeServiceMaker

poetry_server = RecipeServiceMaker(POETRY)
