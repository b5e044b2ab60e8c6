#include "tests/proxy/decoder_fuzz_target.h"

#include <cstdio>
#include <cstdlib>

#include "proxy/pg_wire.h"
#include "proxy/statement_text.h"

namespace sfbridge::proxy::testing {
namespace {

// A property the decoder and the encoder must keep: what one decodes, the other writes back so
// that it decodes the same. The proxy rewrites client messages (a Bind naming committed
// provisional ids, a Parse or Query text) this way. Violations abort, which the fuzzers report.
void Require(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "decoder round trip broken: %s\n", what);
    std::abort();
  }
}

// The body of the one message an Append* wrote.
std::string_view BodyOf(const std::string& message) {
  wire::Frame frame;
  Require(wire::DecodeFrame(message, message.size(), &frame) == wire::DecodeResult::kFrame &&
              frame.size == message.size(),
          "an encoded message does not frame");
  return frame.body;
}

void RoundTripParse(const wire::ParseMsg& parse) {
  std::string again;
  wire::AppendParse(&again, parse.statement, parse.query, parse.param_types);
  absl::StatusOr<wire::ParseMsg> back = wire::ReadParse(BodyOf(again));
  Require(back.ok() && back->statement == parse.statement && back->query == parse.query &&
              back->param_types == parse.param_types,
          "Parse");
}

void RoundTripBind(const wire::BindMsg& bind) {
  absl::StatusOr<std::vector<int16_t>> formats =
      wire::ExpandFormats(bind.param_formats, bind.values.size());
  if (!formats.ok()) return;  // PostgreSQL refuses it; the proxy never re-encodes it
  BoundParams params;
  params.formats = *formats;
  for (const auto& v : bind.values) {
    params.values.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
  }
  std::string again;
  wire::AppendBind(&again, bind.portal, bind.statement, params, bind.result_formats);
  absl::StatusOr<wire::BindMsg> back = wire::ReadBind(BodyOf(again));
  Require(back.ok() && back->portal == bind.portal && back->statement == bind.statement &&
              back->values == bind.values && back->result_formats == bind.result_formats,
          "Bind");
  absl::StatusOr<std::vector<int16_t>> back_formats =
      wire::ExpandFormats(back->param_formats, back->values.size());
  Require(back_formats.ok() && *back_formats == *formats, "Bind formats");
}

size_t DecodeMessage(const wire::Frame& f) {
  size_t n = 0;
  switch (f.type) {
    case 'Q': {
      auto query = wire::ReadQuery(f.body);
      if (query.ok()) {
        ++n;
        std::string again;
        wire::AppendQuery(&again, *query);
        auto back = wire::ReadQuery(BodyOf(again));
        Require(back.ok() && *back == *query, "Query");
      }
      break;
    }
    case 'P': {
      auto parse = wire::ReadParse(f.body);
      if (parse.ok()) {
        ++n;
        RoundTripParse(*parse);
      }
      break;
    }
    case 'B': {
      auto bind = wire::ReadBind(f.body);
      if (bind.ok()) {
        n += wire::ExpandFormats(bind->param_formats, bind->values.size()).ok();
        n += wire::ExpandFormats(bind->result_formats, 3).ok();
        RoundTripBind(*bind);
      }
      break;
    }
    case 'D':
      n += wire::ReadDescribe(f.body).ok();
      break;
    case 'E':
      n += wire::ReadExecute(f.body).ok();
      break;
    default:
      break;
  }
  // The same body read as each backend message too: the proxy parses those from the server.
  n += wire::ReadRowDescription(f.body).ok();
  n += wire::ReadDataRow(f.body).ok();
  n += wire::ReadCommandComplete(f.body).ok();
  n += wire::ReadReadyForQuery(f.body).ok();
  auto fields = wire::ReadFields(f.body);
  if (fields.ok()) n += wire::ToPgError(*fields).message.size() > 0;
  n += wire::ReadAuthRequest(f.body).ok();
  n += wire::ReadBackendKeyData(f.body).ok();
  n += MayWrite(f.body);
  n += ClassifyTransactionControl(f.body) != TransactionControl::kNone;
  return n;
}

}  // namespace

size_t DecodeEverything(std::string_view data) {
  size_t n = 0;
  constexpr size_t kMax = 1 << 20;
  // A client: one startup packet, then messages.
  std::string_view rest = data;
  wire::Frame frame;
  if (wire::DecodeStartupFrame(rest, 10000, &frame) == wire::DecodeResult::kFrame) {
    n += wire::ParseStartup(frame.body).ok();
    rest.remove_prefix(frame.size);
  }
  while (wire::DecodeFrame(rest, kMax, &frame) == wire::DecodeResult::kFrame) {
    n += 1 + DecodeMessage(frame);
    rest.remove_prefix(frame.size);
  }
  // The whole input as regular messages from its first byte.
  rest = data;
  while (wire::DecodeFrame(rest, kMax, &frame) == wire::DecodeResult::kFrame) {
    n += 1 + DecodeMessage(frame);
    rest.remove_prefix(frame.size);
  }
  return n;
}

}  // namespace sfbridge::proxy::testing
