
app_name = "voting"
urlpatterns: list = []  # type: ignore[type-arg]
