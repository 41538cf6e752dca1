//! The serving controller on its own: reconcile plans (groups, roles, the server cap), unit
//! lifecycles and the ready index, the controller's reads and replica writes.

use std::collections::BTreeMap;

use super::*;
use crate::engine::cluster::{Cluster, LABEL_GROUP_NAME, LABEL_ROLE};
use crate::model::spec::Role;
use crate::model::spec::{Clock, DEFAULT_EPOCH_MS};

fn at(secs: i64) -> SimTime {
    SimTime::from_secs(secs)
}

fn group(group: u32) -> GroupSlot {
    GroupSlot {
        role: None,
        group,
        instance: 0,
    }
}

fn servings(specs: &[Serving]) -> Servings<'_> {
    Servings::new(specs, 1, true)
}

/// Carries out `plan` the simplest way: removed units go, new ones are created pending.
fn apply(s: &mut Servings<'_>, serving: ServingIdx, plan: Plan, now: SimTime) -> Vec<UnitId> {
    for u in plan.remove {
        s.set_gone(u);
    }
    (plan.create.into_iter())
        .map(|slot| s.create(serving, slot, now))
        .collect()
}

fn ready_ids(s: &Servings<'_>) -> Vec<UnitId> {
    let mut ids = Vec::new();
    s.for_each_ready(|id, _, _, _| ids.push(id));
    ids
}

fn write(serving: &str, role: Option<&str>, replicas: i32) -> ReplicaWrite {
    ReplicaWrite {
        namespace: "llm".into(),
        model_serving: serving.into(),
        role: role.map(str::to_string),
        replicas,
    }
}

#[test]
fn a_plan_creates_the_missing_groups_and_removes_the_newest_unwanted() {
    let specs = [Serving::for_tests("chat", 2)];
    let mut s = servings(&specs);
    let chat = ServingIdx::new(0);
    let plan = s.plan(chat);
    assert_eq!(plan.create, [group(0), group(1)]);
    assert_eq!((plan.over_cap, plan.remove.len()), (None, 0));
    let units = apply(&mut s, chat, plan, at(0));
    assert_eq!(s.unit(units[1]).pod_name, "chat-1");
    assert_eq!(s.plan(chat).create, [], "nothing missing");
    assert_eq!(s.write(&write("chat", None, 1)), Some(chat));
    assert_eq!(s.write(&write("chat", None, 1)), None, "unchanged");
    assert_eq!(s.write(&write("other", None, 1)), None);
    let plan = s.plan(chat);
    assert_eq!(plan.remove, [units[1]]);
    apply(&mut s, chat, plan, at(1));
    // Back to 3: group 1 again, as a new unit, and group 2.
    s.write(&write("chat", None, 3));
    assert_eq!(s.plan(chat).create, [group(1), group(2)]);
    assert_eq!(s.spec_replicas(chat, None), 3);
}

#[test]
fn groups_of_roles_are_planned_role_by_role_and_labelled() {
    let role = |name: &str, replicas| Role {
        name: name.into(),
        replicas,
        serves: true,
        labels: BTreeMap::new(),
    };
    let specs = [Serving {
        roles: vec![role("prefill", 1), role("decode", 2)],
        ..Serving::for_tests("pd", 1)
    }];
    let mut s = servings(&specs);
    let pd = ServingIdx::new(0);
    let slots = s.plan(pd).create;
    let slot = |role, instance| GroupSlot {
        role: Some(role),
        group: 0,
        instance,
    };
    assert_eq!(slots, [slot(0, 0), slot(1, 0), slot(1, 1)]);
    let u = s.create(pd, slots[2], at(0));
    let labels = &s.unit(u).labels;
    assert_eq!(labels[LABEL_ROLE], "decode");
    assert_eq!(labels[LABEL_GROUP_NAME], "pd-0");
    assert_eq!(s.unit(u).prom_labels["role"], "decode");
    assert_eq!(s.write(&write("pd", Some("decode"), 1)), Some(pd));
    assert_eq!(
        s.write(&write("pd", Some("gateway"), 1)),
        None,
        "no such role"
    );
    assert_eq!(s.spec_replicas(pd, Some(1)), 1);
}

/// However many servers a policy asks for (Kthena admits maxReplicas up to 1 000 000, times
/// the role replicas), the controller plans at most `MAX_SERVERS`, and says so once.
#[test]
fn the_servers_of_a_serving_are_capped() {
    let specs = [Serving::for_tests("chat", 1)];
    let mut s = servings(&specs);
    let chat = ServingIdx::new(0);
    s.write(&write("chat", None, 1_000_000));
    let plan = s.plan(chat);
    assert_eq!(plan.over_cap, Some(1_000_000));
    assert_eq!(plan.create.len(), MAX_SERVERS as usize);
    apply(&mut s, chat, plan, at(0));
    let again = s.plan(chat);
    assert_eq!((again.over_cap, again.create.len()), (None, 0));
}

#[test]
fn the_ready_index_follows_every_transition_in_creation_order() {
    let specs = [Serving::for_tests("chat", 3)];
    let mut s = servings(&specs);
    let chat = ServingIdx::new(0);
    let plan = s.plan(chat);
    let u = apply(&mut s, chat, plan, at(0));
    for &id in &u {
        assert_eq!(s.schedule(id, at(5)), SimDuration::from_secs(60));
    }
    assert_eq!(
        s.unit(u[0]).state(),
        UnitState::Starting {
            scheduled_at: at(5)
        }
    );
    s.set_ready(u[2], at(65));
    s.set_ready(u[0], at(66));
    assert_eq!(ready_ids(&s), [u[0], u[2]]);
    s.terminate(u[0]);
    assert_eq!(
        s.unit(u[0]).state(),
        UnitState::Terminating {
            scheduled_at: at(5)
        }
    );
    s.set_ready(u[1], at(70));
    assert_eq!(ready_ids(&s), [u[1], u[2]]);
    // A lost node: a ready unit is lost until evicted, a terminating one is gone at once.
    assert!(matches!(s.lose(u[1]), UnitState::Ready { .. }));
    assert!(matches!(s.unit(u[1]).state(), UnitState::Lost { .. }));
    assert!(matches!(s.lose(u[0]), UnitState::Terminating { .. }));
    assert_eq!(s.unit(u[0]).state(), UnitState::Gone);
    assert_eq!(ready_ids(&s), [u[2]]);
    assert_eq!(s.scheduled_on("h100"), [u[2]]);
    assert_eq!(s.scheduled_on("a100"), []);
    assert_eq!(s.billed().count(), 1);
}

#[test]
fn crashes_in_a_row_count_until_a_container_runs_ten_minutes() {
    let specs = [Serving::for_tests("chat", 1)];
    let mut s = servings(&specs);
    let chat = ServingIdx::new(0);
    let u = s.create(chat, group(0), at(0));
    s.schedule(u, at(0));
    s.set_ready(u, at(60));
    assert_eq!(s.crash(u, at(120)), 1);
    assert_eq!(ready_ids(&s), []);
    s.set_ready(u, at(200));
    assert_eq!(s.crash(u, at(260)), 2, "ready for only a minute");
    s.set_ready(u, at(300));
    assert_eq!(
        s.crash(u, at(300 + 600)),
        1,
        "ran ten minutes: the back-off resets"
    );
    assert_eq!(s.unit(u).restarts, 3);
    assert_eq!(
        s.unit(u).state(),
        UnitState::Restarting {
            scheduled_at: at(0)
        }
    );
}

#[test]
fn a_read_counts_the_target_and_prices_every_billed_server() {
    let specs = [
        Serving::for_tests("chat", 2),
        Serving {
            price_per_hour: 4.0,
            ..Serving::for_tests("batch", 1)
        },
    ];
    let mut s = servings(&specs);
    let (chat, batch) = (ServingIdx::new(0), ServingIdx::new(1));
    let c: Vec<UnitId> = (0..3).map(|g| s.create(chat, group(g), at(0))).collect();
    let b = s.create(batch, group(0), at(0));
    s.schedule(c[0], at(0));
    s.set_ready(c[0], at(1));
    s.schedule(c[1], at(0));
    s.schedule(b, at(0));
    s.set_ready(b, at(1));
    let read = s.read(chat, None, at(2));
    assert_eq!(
        (read.ready, read.starting, read.pending, read.terminating),
        (1, 1, 1, 0)
    );
    assert_eq!((read.restarted, read.waiting, read.running), (0, 0, 0));
    assert_eq!(read.kv_usage, 0.0);
    assert_eq!(read.cost_per_hour, 3.0 + 4.0);
    // The view shows every unit not gone, with its start time.
    s.set_gone(c[2]);
    let clock = Clock {
        duration: SimDuration::from_secs(60),
        sync_period: SimDuration::from_secs(15),
        first_tick: at(0),
        epoch_ms: DEFAULT_EPOCH_MS,
    };
    s.refresh_expositions(at(2));
    let view = s.view(&clock);
    let pods: Vec<_> = view
        .pods()
        .iter()
        .map(|p| (p.name.as_str(), p.ready))
        .collect();
    assert_eq!(
        pods,
        [("chat-0", true), ("chat-1", false), ("batch-3", true)]
    );
    // The running pods answer their scrape; the starting one does not.
    let answers: Vec<bool> = (0..3).map(|i| view.endpoint(i).is_some()).collect();
    assert_eq!(answers, [true, false, true]);
    assert_eq!(s.prom_labels().len(), 3);
}
