#include "proxy/write_path.h"

namespace sfbridge::proxy {
namespace {

// Plans every statement kPassThrough, so the session forwards every Query string whole.
class PassThroughWritePath final : public WritePath {
 public:
  absl::StatusOr<std::vector<std::string>> Split(std::string_view sql) override {
    return std::vector<std::string>{std::string(sql)};
  }
  StatementPlan Plan(std::string_view) override { return {}; }
  MutationOutcome Execute(const Mutation&, const BoundParams&, TxStatus, ServerQuerier&) override {
    MutationOutcome outcome;
    outcome.pass_through = true;
    return outcome;
  }
};

}  // namespace

std::unique_ptr<WritePath> MakePassThroughWritePath() {
  return std::make_unique<PassThroughWritePath>();
}

}  // namespace sfbridge::proxy
