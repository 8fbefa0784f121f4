#!/usr/bin/env python3
"""Runs the Managed Agents quickstart flow and the Messages API with the
official `anthropic` Python SDK against an ant-mock base URL, to prove SDK
compatibility.

Usage: python3 scripts/python-sdk-check.py http://127.0.0.1:4010

Checks: messages.create; messages.stream (the text_stream assembled equals
get_final_message()); count_tokens; a tool_use round trip; a batch polled
to `ended`, with results(); models.list; then the quickstart (an agent.message
and a session.status_idle over the stream). Prints what it saw; exits 0 on
success, 2 when the SDK is not installed.
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
    messages(client)

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


def messages(client) -> None:
    """The Messages API against the scripted model."""
    import time

    model = "claude-opus-4-7"
    hello = [{"role": "user", "content": "Hello, mock"}]
    message = client.messages.create(model=model, max_tokens=100, messages=hello)
    print(f"messages.create: {message.content[0].text!r} ({message.stop_reason})")
    assert message.content[0].text == "Hello, mock", message
    assert message.usage.output_tokens == 3, message.usage

    prompt = [{"role": "user", "content": "Tell me a story about a lighthouse keeper who counts ships"}]
    with client.messages.stream(model=model, max_tokens=100, messages=prompt) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    print(f"messages.stream: {streamed!r}")
    assert streamed == final.content[0].text, (streamed, final)
    assert final.stop_reason == "end_turn", final.stop_reason

    counted = client.messages.count_tokens(model=model, messages=hello)
    print(f"count_tokens: {counted.input_tokens}")
    assert counted.input_tokens == message.usage.input_tokens, (counted, message.usage)

    tools = [{"name": "get_weather", "description": "The weather in a city",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"]}}]
    ask = [{"role": "user", "content": 'What is the weather in Paris?\n/tool get_weather {"city": "Paris"}'}]
    first = client.messages.create(model=model, max_tokens=200, tools=tools, messages=ask)
    call = next(b for b in first.content if b.type == "tool_use")
    assert first.stop_reason == "tool_use" and call.input == {"city": "Paris"}, first
    answer = ask + [
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": call.id, "content": "Sunny, 21 C"},
            {"type": "text", "text": "/say It is sunny in Paris."}]},
    ]
    second = client.messages.create(model=model, max_tokens=200, tools=tools, messages=answer)
    print(f"tool_use round trip: {call.name}({call.input}) -> {second.content[0].text!r}")
    assert second.stop_reason == "end_turn" and second.content[0].text == "It is sunny in Paris."

    batch = client.messages.batches.create(requests=[
        {"custom_id": "one", "params": {"model": model, "max_tokens": 50, "messages": hello}},
        {"custom_id": "two", "params": {"model": model, "max_tokens": 50,
                                        "messages": [{"role": "user", "content": "/expire"}]}},
    ])
    assert batch.processing_status == "in_progress", batch.processing_status
    deadline = time.monotonic() + 30
    while batch.processing_status != "ended":
        assert time.monotonic() < deadline, "the batch never ended"
        time.sleep(0.1)
        batch = client.messages.batches.retrieve(batch.id)
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    print(f"batch {batch.id}: {batch.request_counts}")
    assert results["one"].type == "succeeded" and results["one"].message.content[0].text == "Hello, mock"
    assert results["two"].type == "expired", results
    assert batch.request_counts.succeeded == 1 and batch.request_counts.expired == 1

    models = [m.id for m in client.models.list()]
    print(f"models.list: {', '.join(models)}")
    assert model in models, models


if __name__ == "__main__":
    sys.exit(main())
