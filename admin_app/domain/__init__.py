"""The leaves under every layer (issue 20): pure rules of the domain with no session, no
models and no app — plates, amounts, the garage's clock, refusal reasons and the domain
errors. Models, services, views, the API and jobs may all import them; they import nothing
of ours but each other, so `make lint`'s layer contract can forbid models → services."""
