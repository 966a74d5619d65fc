"""twistd plugins for the txpoetry services (``twistd -n poetry``, ...)."""

from poetry.operations.recipes import POETRY, PROXY, TRANSFORM
from poetry.twistd import RecipeServiceMaker

poetry_server = RecipeServiceMaker(POETRY)
poetry_transform = RecipeServiceMaker(TRANSFORM)
poetry_proxy = RecipeServiceMaker(PROXY)
