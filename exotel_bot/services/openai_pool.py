"""Vendor clients that every call in the process shares.

Pipecat's `OpenAILLMService` builds a new HTTP client for each service, so each call paid ~35 ms
of CPU on the event loop (loading the CA bundle into a new TLS context) before its greeting,
opened a new TCP + TLS connection to the API for its first reply, and left behind a connection
pool that nothing closes. `PooledOpenAILLMService` is the same service with one client per
process (and event loop): warm connections are reused from call to call.
"""

from __future__ import annotations

import asyncio
import weakref

from pipecat.services.openai.llm import OpenAILLMService

_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class PooledOpenAILLMService(OpenAILLMService):
    """`OpenAILLMService` whose AsyncOpenAI client (and connection pool) is shared by all calls.

    Safe because pipecat never closes the client, and a client keeps no per-call state: the
    model, prompt and settings travel with each request.
    """

    def create_client(
        self,
        api_key=None,
        base_url=None,
        organization=None,
        project=None,
        default_headers=None,
        **kwargs,
    ):
        def new_client():
            return super(PooledOpenAILLMService, self).create_client(
                api_key=api_key,
                base_url=base_url,
                organization=organization,
                project=project,
                default_headers=default_headers,
                **kwargs,
            )

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # built outside an event loop: nothing to share it with
            return new_client()
        headers = tuple(sorted((default_headers or {}).items()))
        key = (api_key, base_url, organization, project, headers)
        per_loop = _clients.setdefault(loop, {})
        if key not in per_loop:
            per_loop[key] = new_client()
        return per_loop[key]
