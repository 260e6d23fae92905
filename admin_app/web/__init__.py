"""What the screens (views) and the REST API (api) share about a request: permission
names, who is asking, FAB's list filters. Below both, above services (issue 20): the API
imports no views, and neither has to copy the other."""
