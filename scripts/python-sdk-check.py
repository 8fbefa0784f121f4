#!/usr/bin/env python3
"""Runs the Managed Agents quickstart flow with the official `anthropic`
Python SDK against an ant-mock base URL, to prove SDK compatibility.

Usage: python3 scripts/python-sdk-check.py http://127.0.0.1:4010

Exits 0 when an agent.message and a session.status_idle arrived over the
stream; prints what it saw. Exits 2 when the SDK is not installed.
"""

import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    base_url = sys.argv[1].rstrip("/")
    try:
        from anthropic import Anthropic
    except ImportError:
        print("skip: the `anthropic` package is not installed (pip install anthropic)", file=sys.stderr)
        return 2

    client = Anthropic(base_url=base_url, api_key="test", max_retries=2)

    agent = client.beta.agents.create(
        name="Coding Assistant",
        model="claude-opus-4-7",
        system="You are a helpful coding assistant. Write clean, well-documented code.",
        tools=[{"type": "agent_toolset_20260401"}],
    )
    print(f"Agent ID: {agent.id}, version: {agent.version}")
    assert agent.id.startswith("agent_"), agent.id

    environment = client.beta.environments.create(
        name="quickstart-env",
        config={"type": "cloud", "networking": {"type": "unrestricted"}},
    )
    print(f"Environment ID: {environment.id}")

    session = client.beta.sessions.create(
        agent=agent.id,
        environment_id=environment.id,
        title="Quickstart session",
    )
    print(f"Session ID: {session.id} (status {session.status})")

    seen = []
    text = []
    with client.beta.sessions.events.stream(session.id) as stream:
        client.beta.sessions.events.send(
            session.id,
            events=[
                {
                    "type": "user.message",
                    "content": [
                        {
                            "type": "text",
                            "text": "Create a Python script that generates the first 20 Fibonacci numbers\n"
                            "/write fibonacci.py\nprint([0, 1, 1, 2, 3])\n/end\n/read fibonacci.py\n/say Done.",
                        }
                    ],
                }
            ],
        )
        for event in stream:
            seen.append(event.type)
            if event.type == "agent.message":
                for block in event.content:
                    text.append(block.text)
                    print(block.text)
            elif event.type == "agent.tool_use":
                print(f"[Using tool: {event.name}]")
            elif event.type == "session.status_idle":
                print(f"Agent finished ({event.stop_reason.type}).")
                break

    print("events:", ", ".join(seen))
    assert "agent.message" in seen, "no agent.message arrived"
    assert "agent.tool_use" in seen and "agent.tool_result" in seen, "no tool round trip"
    assert seen[-1] == "session.status_idle", "stream did not reach session.status_idle"

    listed = client.beta.sessions.events.list(session.id)
    types = [e.type for e in listed.data]
    assert types[: len(seen)] == seen[: len(types)], (types, seen)
    fetched = client.beta.sessions.retrieve(session.id)
    assert fetched.status == "idle", fetched.status
    agents = client.beta.agents.list(limit=1)
    assert len(agents.data) == 1
    print("python-sdk-check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
