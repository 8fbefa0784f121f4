//! Unit tests of the stop rules: each names the rule it pins.

use serde_json::{Value, json};

use super::*;

fn ev(id: &str, ty: &str, at: &str) -> Value {
    json!({"id": id, "type": ty, "processed_at": at})
}

fn idle(id: &str, reason: &str, at: &str) -> Value {
    json!({"id": id, "type": "session.status_idle", "processed_at": at,
           "stop_reason": {"type": reason}})
}

fn session_watch() -> Watch {
    Watch::for_stream("/v1/sessions/s1/events/stream", true)
}

#[test]
fn a_session_that_never_ran_waits_for_the_first_idle() {
    let mut w = session_watch();
    assert_eq!(w.attach(&[]), Attach::Wait);
    assert_eq!(
        w.check(&idle("e2", "end_turn", "t2")),
        Some(Outcome::Idle(StopReason::EndTurn))
    );
}

#[test]
fn attaching_mid_turn_waits_for_the_idle_without_seeing_running() {
    let mut w = session_watch();
    let history = [
        ev("e3", "session.status_running", "t3"),
        ev("e2", "user.message", "t2"),
        idle("e1", "end_turn", "t1"),
    ];
    assert_eq!(w.attach(&history), Attach::Wait);
    assert_eq!(w.check(&ev("e4", "agent.message", "t4")), None);
    assert_eq!(
        w.check(&idle("e5", "end_turn", "t5")),
        Some(Outcome::Idle(StopReason::EndTurn))
    );
}

#[test]
fn user_input_newer_than_an_idle_waits_for_the_next_idle() {
    for input in USER_INPUT {
        let mut w = session_watch();
        let history = [ev("e2", input, "t2"), idle("e1", "end_turn", "t1")];
        assert_eq!(w.attach(&history), Attach::Wait, "{input}");
        // The old idle replayed from the stream's buffer does not count.
        assert_eq!(w.check(&idle("e1", "end_turn", "t1")), None, "{input}");
        assert_eq!(
            w.check(&idle("e3", "end_turn", "t3")),
            Some(Outcome::Idle(StopReason::EndTurn)),
            "{input}"
        );
    }
}

#[test]
fn rescheduled_counts_as_running() {
    let mut w = session_watch();
    let history = [ev("e2", "session.status_rescheduled", "t2")];
    assert_eq!(w.attach(&history), Attach::Wait);
}

#[test]
fn an_idle_session_stops_at_once_with_its_stop_reason() {
    let cases = [
        ("end_turn", Outcome::Idle(StopReason::EndTurn)),
        (
            "retries_exhausted",
            Outcome::Idle(StopReason::RetriesExhausted),
        ),
        ("budget_reached", Outcome::Idle(StopReason::BudgetReached)),
        ("refusal", Outcome::Idle(StopReason::Refusal(None))),
        (
            "something_new",
            Outcome::Idle(StopReason::Unknown("something_new".into())),
        ),
    ];
    for (reason, outcome) in cases {
        let mut w = session_watch();
        let history = [idle("e9", reason, "t9"), ev("e8", "user.message", "t8")];
        assert_eq!(
            w.attach(&history),
            Attach::Stop(Some("e9".into()), outcome),
            "{reason}"
        );
    }
    let mut w = session_watch();
    let waiting = json!({"id": "e9", "type": "session.status_idle", "processed_at": "t9",
                         "stop_reason": {"type": "requires_action", "event_ids": ["e7"]}});
    assert_eq!(
        w.attach(&[waiting]),
        Attach::Stop(
            Some("e9".into()),
            Outcome::Idle(StopReason::RequiresAction(vec!["e7".into()]))
        )
    );
}

#[test]
fn a_fatal_session_error_before_the_idle_fails_the_turn() {
    let error = json!({"id": "e8", "type": "session.error", "processed_at": "t8",
                       "error": {"type": "unknown_error", "message": "boom",
                                 "retry_status": {"type": "exhausted"}}});
    let retrying = json!({"id": "e7", "type": "session.error", "processed_at": "t7",
                          "error": {"type": "model_overloaded_error", "message": "busy",
                                    "retry_status": {"type": "retrying"}}});
    // At attach, from the history.
    let mut w = session_watch();
    let history = [
        idle("e9", "end_turn", "t9"),
        error.clone(),
        ev("e6", "session.status_running", "t6"),
    ];
    let Attach::Stop(_, outcome) = w.attach(&history) else {
        panic!("an idle session stops")
    };
    assert_eq!(
        outcome,
        Outcome::Idle(StopReason::Failed("unknown_error: boom".into()))
    );
    // Live; a retried error does not count.
    let mut w = session_watch();
    w.attach(&[]);
    w.check(&retrying);
    assert_eq!(
        w.check(&idle("e9", "end_turn", "t9")),
        Some(Outcome::Idle(StopReason::EndTurn))
    );
    let mut w = session_watch();
    w.attach(&[]);
    w.check(&error);
    let Some(Outcome::Idle(StopReason::Failed(msg))) =
        w.check(&idle("e9", "retries_exhausted", "t9"))
    else {
        panic!("a failed turn")
    };
    assert!(
        msg.contains("boom") && msg.contains("retries_exhausted"),
        "{msg}"
    );
}

#[test]
fn an_error_of_an_earlier_turn_does_not_fail_the_next() {
    let mut w = session_watch();
    w.attach(&[]);
    w.check(&json!({"type": "session.error", "error": {"message": "old"}}));
    w.armed = false; // that turn's idle was not watched
    assert_eq!(w.check(&idle("e1", "end_turn", "t1")), None);
    w.check(&ev("e2", "session.status_running", "t2"));
    assert_eq!(
        w.check(&idle("e3", "end_turn", "t3")),
        Some(Outcome::Idle(StopReason::EndTurn))
    );
}

#[test]
fn terminated_and_deleted_stop_with_11_and_plain_streams_just_end() {
    let mut w = session_watch();
    let history = [ev("e1", "session.status_terminated", "t1")];
    assert_eq!(
        w.attach(&history),
        Attach::Stop(Some("e1".into()), Outcome::Terminated("terminated"))
    );
    assert_eq!(
        w.check(&json!({"type": "session.deleted"})),
        Some(Outcome::Terminated("deleted"))
    );
    assert_eq!(
        Outcome::Terminated("deleted")
            .into_result()
            .unwrap_err()
            .exit_code(),
        11
    );
    let mut plain = Watch::for_stream("/v1/sessions/s1/events/stream", false);
    assert_eq!(plain.check(&idle("e1", "end_turn", "t1")), None);
    assert_eq!(
        plain.check(&ev("e2", "session.status_terminated", "t2")),
        Some(Outcome::Ended)
    );
}

#[test]
fn a_new_turn_after_attaching_to_an_idle_session_is_followed() {
    let mut w = session_watch();
    let Attach::Stop(..) = w.attach(&[idle("e1", "end_turn", "t1")]) else {
        panic!("idle")
    };
    assert_eq!(w.check(&idle("e1", "end_turn", "t1")), None, "replayed");
    w.check(&ev("e2", "session.status_running", "t2"));
    assert_eq!(
        w.check(&idle("e3", "budget_reached", "t3")),
        Some(Outcome::Idle(StopReason::BudgetReached))
    );
}

#[test]
fn run_stops_only_at_the_idle_of_its_own_turn() {
    // A busy session: the previous turn's idle comes after our message's
    // echo (or before it, when echoes come as messages are processed).
    for echo_first in [true, false] {
        let mut w = session_watch();
        w.expect_own(Some("mine"), "hi");
        let mut events = vec![
            ev("e1", "agent.message", "t1"),
            idle("e2", "end_turn", "t2"),
        ];
        let echo = ev("mine", "user.message", "t0");
        if echo_first {
            events.insert(0, echo);
        } else {
            events.push(echo);
        }
        for e in &events {
            assert_eq!(w.check(e), None, "echo first: {echo_first}, {e}");
        }
        w.check(&ev("e3", "session.status_running", "t3"));
        assert_eq!(
            w.check(&idle("e4", "end_turn", "t4")),
            Some(Outcome::Idle(StopReason::EndTurn)),
            "echo first: {echo_first}"
        );
    }
}

#[test]
fn answered_confirmations_keep_the_stream_going() {
    let mut w = session_watch();
    w.attach(&[]);
    w.answered("tool_1");
    let waiting = json!({"id": "e1", "type": "session.status_idle", "processed_at": "t1",
                         "stop_reason": {"type": "requires_action", "event_ids": ["tool_1"]}});
    assert_eq!(w.check(&waiting), None);
    w.check(&ev("e2", "session.status_running", "t2"));
    let waiting2 = json!({"id": "e3", "type": "session.status_idle", "processed_at": "t3",
                          "stop_reason": {"type": "requires_action", "event_ids": ["tool_2"]}});
    assert_eq!(
        w.check(&waiting2),
        Some(Outcome::Idle(StopReason::RequiresAction(vec![
            "tool_2".into()
        ])))
    );
}

#[test]
fn thread_streams_follow_their_own_thread() {
    let mut w = Watch::for_stream("/v1/sessions/s1/threads/sthr_2/stream", true);
    let other = json!({"type": "session.thread_status_idle", "session_thread_id": "sthr_9",
                       "stop_reason": {"type": "end_turn"}});
    assert_eq!(
        w.check(&other),
        None,
        "another thread's status does not count"
    );
    let mine = json!({"type": "session.thread_status_idle", "session_thread_id": "sthr_2",
                      "stop_reason": {"type": "end_turn"}});
    assert_eq!(w.check(&mine), Some(Outcome::Idle(StopReason::EndTurn)));
    // On the session stream, child threads' statuses do not count.
    let mut w = session_watch();
    w.attach(&[]);
    assert_eq!(w.check(&mine), None);
    assert_eq!(
        w.check(&json!({"type": "session.thread_status_terminated"})),
        None
    );
}

#[test]
fn stop_reasons_map_to_documented_exit_codes() {
    let code = |o: Outcome| o.into_result().err().map(|e| e.exit_code()).unwrap_or(0);
    assert_eq!(code(Outcome::Idle(StopReason::EndTurn)), 0);
    assert_eq!(code(Outcome::Ended), 0);
    assert_eq!(code(Outcome::Idle(StopReason::RequiresAction(vec![]))), 10);
    assert_eq!(code(Outcome::Terminated("terminated")), 11);
    assert_eq!(code(Outcome::Idle(StopReason::RetriesExhausted)), 12);
    assert_eq!(code(Outcome::Idle(StopReason::Failed("x".into()))), 12);
    assert_eq!(code(Outcome::Idle(StopReason::Unknown("x".into()))), 12);
    assert_eq!(code(Outcome::Idle(StopReason::BudgetReached)), 13);
    let details = json!({"type": "refusal", "category": "cyber", "explanation": "no"});
    let err = Outcome::Idle(StopReason::Refusal(Some(details)))
        .into_result()
        .unwrap_err();
    assert_eq!(err.exit_code(), 14);
    // One line, whatever the details hold.
    assert_eq!(
        err.to_string(),
        "the agent refused (refusal); category: cyber; explanation: no; \
         stop_details: {\"type\":\"refusal\",\"category\":\"cyber\",\"explanation\":\"no\"}"
    );
    let unknown = Outcome::Idle(StopReason::Unknown("paused".into()))
        .into_result()
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("paused"), "{unknown}");
}

#[test]
fn without_an_id_run_knows_its_echo_by_its_text() {
    let message = |id: &str, text: &str| json!({"id": id, "type": "user.message", "content": [{"type": "text", "text": text}]});
    let mut w = session_watch();
    w.expect_own(None, "hi");
    let earlier = [
        message("e1", "earlier"),
        ev("e2", "session.status_running", "t2"),
        idle("e3", "end_turn", "t3"),
    ];
    for e in &earlier {
        assert_eq!(w.check(e), None, "{e}");
    }
    w.check(&message("e4", "hi"));
    w.check(&ev("e5", "session.status_running", "t5"));
    assert_eq!(
        w.check(&idle("e6", "end_turn", "t6")),
        Some(Outcome::Idle(StopReason::EndTurn))
    );
}

#[test]
fn new_user_input_while_at_rest_waits_for_the_next_idle_like_at_attach() {
    let mut w = session_watch();
    let Attach::Stop(..) = w.attach(&[idle("e1", "end_turn", "t1")]) else {
        panic!("idle")
    };
    assert!(!w.is_armed());
    // Replayed from the buffer: old, it changes nothing; nor does input
    // whose time is unknown.
    assert_eq!(w.check(&ev("e0", "user.message", "t0")), None);
    assert_eq!(w.check(&json!({"id": "e00", "type": "user.message"})), None);
    assert!(!w.is_armed());
    // Sent after attach (the session may take a while to report running).
    assert_eq!(w.check(&ev("e2", "user.message", "t2")), None);
    assert!(w.is_armed());
    assert_eq!(
        w.check(&idle("e3", "budget_reached", "t3")),
        Some(Outcome::Idle(StopReason::BudgetReached))
    );
}

fn thread_status(id: &str, status: &str, thread: &str, at: &str) -> Value {
    json!({"id": id, "type": format!("session.thread_status_{status}"), "processed_at": at,
           "session_thread_id": thread})
}

#[test]
fn a_sub_agent_thread_at_rest_stops_with_its_own_stop_reason() {
    let mut w = Watch::for_stream("/v1/sessions/s1/threads/sthr_2/stream", true);
    let mut thread_idle = thread_status("e3", "idle", "sthr_2", "t3");
    thread_idle["stop_reason"] = json!({"type": "budget_reached"});
    let history = [
        // The coordinator goes on: the session's running status is not the thread's.
        ev("e4", "session.status_running", "t4"),
        ev("e5", "user.message", "t5"),
        thread_idle,
        thread_status("e2", "running", "sthr_2", "t2"),
        thread_status("e1", "idle", "sthr_9", "t1"),
    ];
    assert_eq!(
        w.attach(&history),
        Attach::Stop(Some("e3".into()), Outcome::Idle(StopReason::BudgetReached))
    );
    // Live, the coordinator running does not make the thread's turn pending.
    assert_eq!(w.check(&ev("e6", "session.status_running", "t6")), None);
    assert!(!w.is_armed());
    // Input for that thread does.
    let mut confirm = ev("e7", "user.tool_confirmation", "t7");
    confirm["session_thread_id"] = json!("sthr_2");
    w.check(&confirm);
    assert!(w.is_armed());
}

#[test]
fn the_primary_thread_follows_the_sessions_statuses() {
    let mut w = Watch::for_stream("/v1/sessions/s1/threads/sthr_1/stream", true);
    w.primary_thread();
    let history = [
        ev("e2", "session.status_running", "t2"),
        idle("e1", "end_turn", "t1"),
    ];
    assert_eq!(w.attach(&history), Attach::Wait);
    assert_eq!(
        w.check(&idle("e3", "refusal", "t3")),
        Some(Outcome::Idle(StopReason::Refusal(None)))
    );
}
