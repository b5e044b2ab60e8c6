#pragma once

// Postgres identifiers for Salesforce API names (DESIGN.md, "Postgres, synced data").
//
// The rule: split words where the case changes ("FirstName" -> "first_name", an acronym ends
// before its last capital: "SLAExpirationDate__c" -> "sla_expiration_date__c", "URL__c" ->
// "url__c"), lower-case everything, keep underscores as they are ("Invoice__c" -> "invoice__c",
// "ns__Field__c" -> "ns__field__c"), and turn any character outside [A-Za-z0-9_] into '_'.
// A digit counts as part of the word before it ("Address2Line" -> "address2_line").
//
// Postgres keeps at most 63 bytes of an identifier: a longer name keeps its first 54 bytes and
// gets "_" plus 8 hex digits of a hash of the whole API name. The hash (FNV-1a, 32 bits) is fixed
// by this file, so every process and every release computes the same names.
//
// Names are returned unquoted; SQL built from them quotes them with
// postgres::Transaction::QuoteName, which also takes care of reserved words ("order", "user").
// Pure functions, thread-safe.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace sfbridge::writer {

// Postgres's identifier limit (NAMEDATALEN - 1).
inline constexpr size_t kMaxIdentifierBytes = 63;

// The snake_case identifier of an API name, at most 63 bytes. Never empty ("" -> "_").
std::string SnakeCaseName(std::string_view api_name);

// 8 lower-case hex digits: FNV-1a (32 bits) of `text`. Stable across processes and releases.
std::string StableHash(std::string_view text);

// The identifier for `api_name` that is not in `taken`: SnakeCaseName when free, otherwise the
// snake name cut to fit plus "_" and StableHash(api_name), otherwise that plus "_2", "_3", ...
// Deterministic: the same `taken` and name always give the same identifier. Callers resolve a
// set of new names in a fixed order (sorted API names) and add each result to `taken`, so that
// names already given out never change and the outcome does not depend on describe order.
std::string UniqueName(std::string_view api_name, const std::set<std::string>& taken);

}  // namespace sfbridge::writer
