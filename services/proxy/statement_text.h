#pragma once

// SQL text the session inspects or composes: the cheap test that decides whether a statement
// is worth the write path's attention, and the DO block that makes Postgres raise an error.

#include <string>
#include <string_view>

#include "proxy/write_path.h"

namespace sfbridge::proxy {

// True when `sql` contains one of the words INSERT, UPDATE, DELETE, MERGE, COPY, TRUNCATE or
// EXECUTE (any case, anywhere). A statement without any of them cannot change a table by itself.
bool MayWrite(std::string_view sql);

// What a statement does to the transaction it runs in, from its first words (after blanks and
// comments; any case): COMMIT, END, PREPARE TRANSACTION end it with a commit (kCommit); ROLLBACK,
// ABORT with a rollback (kRollback); ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] undoes part of
// it (kRollbackToSavepoint). Anything else: kNone.
enum class TransactionControl { kNone, kCommit, kRollback, kRollbackToSavepoint };
TransactionControl ClassifyTransactionControl(std::string_view sql);

// The DO block that makes Postgres raise `error` itself, with its SQLSTATE, DETAIL, HINT,
// COLUMN, TABLE and SCHEMA. Literals are escape strings (their meaning does not depend on
// standard_conforming_strings) inside a dollar quote whose tag does not occur in them; an
// invalid SQLSTATE becomes XX000.
std::string RaiseSql(const PgError& error);

}  // namespace sfbridge::proxy
