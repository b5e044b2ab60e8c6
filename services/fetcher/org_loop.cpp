#include "fetcher/org_loop.h"

#include <algorithm>
#include <utility>

#include "common/control/org_settings.h"
#include "common/core/json_writer.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "fetcher/bulk_backfill.h"
#include "fetcher/object_sync.h"

namespace sfbridge::fetcher {
namespace {

using core::StrCat;
using std::chrono::milliseconds;

// Sleeps on the clock in short steps until `d` passed or a stop is requested.
void SleepUnlessStopped(core::Clock& clock, milliseconds d, const std::stop_token& stop) {
  const auto until = clock.Monotonic() + d;
  while (!stop.stop_requested()) {
    auto left = until - clock.Monotonic();
    if (left <= std::chrono::nanoseconds::zero()) return;
    clock.SleepFor(std::min<std::chrono::nanoseconds>(left, milliseconds(250)));
  }
}

// Whether every object of `names` finished its backfill (whichever replica read it).
absl::StatusOr<bool> AllBackfilled(postgres::Connection& conn, const std::string& org,
                                   const std::vector<std::string>& names) {
  if (names.empty()) return false;
  auto objects = control::LoadObjects(conn, org);
  if (!objects.ok()) return objects.status();
  size_t done = 0;
  for (const control::ObjectStatus& o : *objects) {
    if (std::find(names.begin(), names.end(), o.object_name) != names.end() &&
        o.backfill_completed_at_ms.has_value() && o.state == control::ObjectState::kLive) {
      ++done;
    }
  }
  return done == names.size();
}

}  // namespace

OrgLoop::OrgLoop(OrgLoopContext ctx, OrgLoopHooks hooks)
    : ctx_(ctx),
      hooks_(std::move(hooks)),
      options_(*ctx.options),
      org_(ctx.options->org_id),
      clock_(*ctx.clock),
      metrics_(*ctx.metrics),
      discovery_({.org_id = org_,
                  .client = ctx.client,
                  .conn = ctx.conn,
                  .producer = ctx.producer,
                  .clock = ctx.clock,
                  .metrics = ctx.metrics},
                 {.describe_interval = options_.describe_interval,
                  .retry_initial = options_.retry_initial,
                  .retry_max = options_.retry_max}),
      auth_(
          *ctx.conn, clock_, options_, metrics_, [this](const control::Event& e) { PostEvent(e); },
          hooks_.auth_error),
      store_(*ctx.conn, clock_, org_, &metrics_, [this](const control::Event& e) { PostEvent(e); }),
      bulk_jobs_(*ctx.conn, org_),
      sink_(*ctx.producer, org_, &metrics_),
      scheduler_(*ctx.gate, clock_,
                 {.poll_interval = options_.poll_interval,
                  .error_retry_interval = options_.retry_initial,
                  .error_retry_max = options_.retry_max}),
      leases_(*ctx.conn, clock_, org_, options_.replica_id, options_.lease_ttl),
      lease_every_(options_.lease_ttl / 3),
      next_lease_(clock_.Monotonic()),
      lease_valid_until_(clock_.Monotonic()),
      next_settings_(clock_.Monotonic()) {}

void OrgLoop::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    const auto now = clock_.Monotonic();
    ctx_.ready_gauge->Set(hooks_.ready() ? 1 : 0);
    if (AwaitDependencies(now)) continue;
    RefreshSettings(now);
    if (Authenticate(stop)) continue;
    if (discovery_.pass_completed() && (now >= next_lease_ || plans_dirty_)) RenewLeases(now);
    if (Discover(stop)) continue;
    Tick(stop);
  }
  core::Logger("fetcher")->info("org={} stopping", org_);
  if (absl::Status s = leases_.Release(); !s.ok()) {
    core::Logger("fetcher")->warn("org={} releasing leases failed: {}", org_,
                                  std::string(s.message()));
  }
}

bool OrgLoop::AwaitDependencies(core::Clock::MonoTime now) {
  // PostgreSQL lost: fetch nothing until both connections are back (fetcher_service.h says why).
  if (!ControlPlaneUp()) {
    if (now >= lease_valid_until_ && !scheduler_.objects().empty()) {
      // The leases may have expired meanwhile: another replica may take the objects.
      for (const std::string& name : scheduler_.objects()) DropObject(name);
    }
    const bool a = ctx_.conn->Exec("SELECT 1").ok();
    const bool b = ctx_.budget_conn->Exec("SELECT 1").ok();
    if (a && b) {
      next_lease_ = clock_.Monotonic();  // leases first: they may have moved meanwhile
      next_settings_ = next_lease_;
      return true;
    }
    Nap(milliseconds(250));
    return true;
  }
  // Kafka lost: nothing read could be published.
  if (!ctx_.kafka->up()) {
    Nap(milliseconds(250));
    return true;
  }
  return false;
}

void OrgLoop::RefreshSettings(core::Clock::MonoTime now) {
  // Settings changed by anyone take effect here (the budget's at every take).
  if (now < next_settings_) return;
  next_settings_ = now + options_.settings_refresh;
  absl::StatusOr<control::OrgSettings> settings = control::LoadOrg(*ctx_.conn, org_);
  if (!settings.ok()) {
    if (!core::IsRetryable(settings.status()) || ControlPlaneUp()) {
      core::Logger("fetcher")->warn("org={} settings not read: {}", org_,
                                    core::ToString(settings.status().message()));
    }
    return;
  }
  ctx_.webhook->SetUrl(settings->webhook_url);
  if (objects_setting_ && *objects_setting_ != settings->objects) {
    core::Logger("fetcher")->info("org={} object list changed: discovering again", org_);
    discovery_.RequestPass();
  }
  objects_setting_ = settings->objects;
}

bool OrgLoop::Authenticate(const std::stop_token& stop) {
  // Credentials first: nothing else can work without them.
  if (auth_.authenticated()) return false;
  if (!auth_.Due()) {
    Nap(Until(auth_.retry_at()));
    return true;
  }
  absl::StatusOr<control::Grant> grant = ctx_.gate->TryTake();
  if (!grant.ok() || !grant->granted) {
    Nap(grant.ok() ? grant->wait : milliseconds(1'000));
    return true;
  }
  absl::Status s = ctx_.client->Authenticate();
  if (stop.stop_requested()) return true;
  if (s.ok()) {
    auth_.Succeeded();
    scheduler_.RetryErrorsNow();
  } else {
    auth_.Failed(s);
  }
  return true;
}

void OrgLoop::RenewLeases(core::Clock::MonoTime now) {
  auto log = core::Logger("fetcher");
  next_lease_ = now + lease_every_;
  if (plans_dirty_) {
    plans_dirty_ = false;
    for (const std::string& name : scheduler_.objects()) {
      auto plan = discovery_.plans().find(name);
      if (plan == discovery_.plans().end()) {
        DropObject(name);
      } else if (plan->second.schema_fingerprint != fingerprints_[name]) {
        log->info("org={} object={} schema changed: reading with the new fields", org_, name);
        StartObject(name, plan->second);
      }
    }
  }
  absl::StatusOr<std::vector<std::string>> held = leases_.Acquire(discovery_.object_names());
  if (!held.ok()) {
    log->warn("org={} lease renewal failed: {}", org_, std::string(held.status().message()));
    next_lease_ = now + milliseconds(1'000);
    if (now >= lease_valid_until_) {
      // The leases may have expired: stop working on every object until renewed.
      for (const std::string& name : scheduler_.objects()) DropObject(name);
    }
  } else {
    lease_valid_until_ = now + options_.lease_ttl - lease_every_;
    std::set<std::string> keep(held->begin(), held->end());
    for (const std::string& name : scheduler_.objects()) {
      if (!keep.contains(name)) DropObject(name);
    }
    for (const std::string& name : *held) {
      if (scheduler_.Find(name) != nullptr) continue;
      auto plan = discovery_.plans().find(name);
      if (plan != discovery_.plans().end()) StartObject(name, plan->second);
    }
    metrics_.objects_held.WithLabels({org_}).Set(static_cast<double>(held->size()));
  }
  CheckOrgComplete();
}

bool OrgLoop::Discover(const std::stop_token& stop) {
  auto log = core::Logger("fetcher");
  // Discovery goes first when due: its calls are few.
  if (!discovery_.Due()) {
    if (discovery_.pass_completed()) return false;
    Nap(Until(discovery_.next_due()));
    return true;
  }
  absl::StatusOr<control::Grant> grant = ctx_.gate->TryTake();
  if (!grant.ok()) {
    log->warn("org={} budget unavailable: {}", org_, std::string(grant.status().message()));
    Nap(milliseconds(1'000));
    return true;
  }
  if (!grant->granted) {
    Nap(grant->wait);
    return true;
  }
  absl::StatusOr<DiscoveryStep> step = discovery_.Step();
  if (stop.stop_requested()) return true;
  if (!step.ok()) {
    log->warn("org={} discovery step failed, retrying: {}", org_,
              std::string(step.status().message()));
    Nap(milliseconds(1'000));
    return true;
  }
  if (IsAuthFailure(step->salesforce_error)) auth_.Failed(step->salesforce_error);
  if (step->plans_changed && discovery_.pass_completed()) plans_dirty_ = true;
  if (discovery_.pass_completed() && !discovered_) {
    plans_dirty_ = false;
    discovered_ = true;
    hooks_.discovered();
    log->info("org={} objects={} replica={} discovery done", org_, discovery_.plans().size(),
              options_.replica_id);
    next_lease_ = clock_.Monotonic();
  }
  return true;
}

void OrgLoop::Tick(const std::stop_token& stop) {
  auto log = core::Logger("fetcher");
  absl::StatusOr<TickResult> tick = scheduler_.Tick();
  if (!tick.ok()) {
    log->warn("org={} budget unavailable: {}", org_, std::string(tick.status().message()));
    SleepUnlessStopped(clock_, milliseconds(1'000), stop);
    return;
  }
  if (tick->object.empty()) {
    milliseconds wait = tick->wait;
    wait =
        std::min({wait, Until(next_lease_), Until(discovery_.next_due()), Until(next_settings_)});
    Nap(wait);
    return;
  }
  const std::string& name = tick->object;
  if (!tick->step_status.ok()) {
    metrics_.step_failures.WithLabels({org_, name}).Increment();
    log->warn("org={} object={} step failed: {}", org_, name,
              std::string(tick->step_status.message()));
    return;
  }
  const StepResult& step = tick->step;
  if (step.state == control::ObjectState::kError && IsAuthFailure(step.error)) {
    auth_.Failed(step.error);
  }
  control::ObjectState& previous = last_state_[name];
  const control::ObjectState before = previous;
  if (step.state != previous) {
    if (step.state == control::ObjectState::kError) {
      log->error("org={} object={} state=error error={}", org_, name,
                 std::string(step.error.message()));
    } else {
      log->info("org={} object={} state={} previous={}", org_, name, ObjectStateName(step.state),
                ObjectStateName(previous));
    }
    previous = step.state;
    ShowState(name, step.state);
    if (step.state == control::ObjectState::kLive) CheckOrgComplete();
  }
  if (before == control::ObjectState::kLive && step.state == control::ObjectState::kLive &&
      !step.more_pending) {
    NotePoll(name);
  }
  if (step.records_published > 0) {
    log->debug("org={} object={} records={} published", org_, name, step.records_published);
  }
}

void OrgLoop::StartObject(const std::string& name, const mapping::FieldPlan& plan) {
  auto log = core::Logger("fetcher");
  auto reader = std::make_unique<ClientReader>(*ctx_.client, org_, name, &metrics_);
  auto bulk_reader = std::make_unique<ClientBulkReader>(*ctx_.client, org_, name, &metrics_);
  absl::StatusOr<std::unique_ptr<SyncTask>> sync = BulkBackfill::Create(
      org_, plan, *bulk_reader, sink_, store_, bulk_jobs_, clock_,
      {.threshold = options_.bulk_threshold,
       .page_records = options_.bulk_page_records,
       .poll_initial = options_.bulk_poll_initial,
       .poll_max = options_.bulk_poll_max},
      [this, plan, rest_reader = reader.get()]() -> absl::StatusOr<std::unique_ptr<SyncTask>> {
        return ObjectSync::Create(org_, plan, *rest_reader, sink_, store_, clock_,
                                  {.page_size = options_.page_size});
      });
  if (!sync.ok()) {
    log->error("org={} object={} cannot start: {}", org_, name,
               std::string(sync.status().message()));
    return;
  }
  log->info("org={} object={} state={} fields={} started", org_, name,
            ObjectStateName((*sync)->state()), plan.fields.size());
  last_state_[name] = (*sync)->state();
  ShowState(name, (*sync)->state());
  fingerprints_[name] = plan.schema_fingerprint;
  scheduler_.Add(*std::move(sync));    // replaces the object's previous sync, if any
  readers_[name] = std::move(reader);  // after: the previous sync used the previous reader
  bulk_readers_[name] = std::move(bulk_reader);
}

void OrgLoop::DropObject(const std::string& name) {
  scheduler_.Remove(name);
  readers_.erase(name);
  bulk_readers_.erase(name);
  last_state_.erase(name);
  fingerprints_.erase(name);
  ShowState(name, std::nullopt);
  core::Logger("fetcher")->info("org={} object={} lease given up", org_, name);
}

void OrgLoop::ShowState(const std::string& name, std::optional<control::ObjectState> state) {
  for (control::ObjectState s : {control::ObjectState::kPending, control::ObjectState::kBackfilling,
                                 control::ObjectState::kLive, control::ObjectState::kError}) {
    metrics_.object_state.WithLabels({org_, name, std::string(ObjectStateName(s))})
        .Set(state == s ? 1 : 0);
  }
}

void OrgLoop::CheckOrgComplete() {
  // Recorded once by whichever replica sees it first.
  if (org_complete_known_ || !discovery_.pass_completed()) return;
  const std::vector<std::string> names = discovery_.selected();
  absl::StatusOr<bool> all = AllBackfilled(*ctx_.conn, org_, names);
  if (!all.ok() || !*all) return;
  absl::StatusOr<std::optional<control::Event>> event =
      control::RecordEventOnce(*ctx_.conn, org_, std::nullopt, control::kEventOrgBackfillComplete,
                               core::JsonWriter()
                                   .BeginObject()
                                   .Key("objects")
                                   .Int(static_cast<int64_t>(names.size()))
                                   .EndObject()
                                   .Take());
  if (!event.ok()) {
    core::Logger("fetcher")->warn("org={} org backfill event not recorded: {}", org_,
                                  core::ToString(event.status().message()));
    return;
  }
  org_complete_known_ = true;
  if (event->has_value()) {
    core::Logger("fetcher")->info("org={} objects={} backfill of the org complete", org_,
                                  names.size());
    PostEvent(**event);
  }
}

void OrgLoop::NotePoll(const std::string& name) {
  const auto now = clock_.Monotonic();
  cycle_left_.erase(name);
  for (auto it = cycle_left_.begin(); it != cycle_left_.end();) {
    auto state = last_state_.find(*it);
    const bool live = state != last_state_.end() && state->second == control::ObjectState::kLive;
    it = live ? std::next(it) : cycle_left_.erase(it);
  }
  if (!cycle_left_.empty()) return;
  if (cycle_start_) {
    metrics_.poll_cycle.WithLabels({org_}).Observe(
        std::chrono::duration<double>(now - *cycle_start_).count());
  }
  cycle_start_ = now;
  for (const auto& [object, state] : last_state_) {
    if (state == control::ObjectState::kLive) cycle_left_.insert(object);
  }
}

bool OrgLoop::ControlPlaneUp() const {
  return ctx_.postgres->up() && ctx_.conn->connected() && ctx_.budget_conn->connected();
}

void OrgLoop::Nap(milliseconds d) {
  d = std::max(milliseconds(1), std::min(d, milliseconds(250)));
  clock_.SleepFor(d);
}

milliseconds OrgLoop::Until(core::Clock::MonoTime t) const {
  return std::chrono::duration_cast<milliseconds>(t - clock_.Monotonic());
}

void OrgLoop::PostEvent(const control::Event& e) { ctx_.webhook->Post(control::EventJson(e)); }

}  // namespace sfbridge::fetcher
