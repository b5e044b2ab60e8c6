#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "sfsim/org/org.h"

// Salesforce's errors, with the codes, message shapes and http statuses its REST API gives.
namespace sfbridge::sfsim::org {

ApiError RequiredFieldMissing(const std::vector<std::string>& fields);
// `No such column 'Foo' on sobject of type Contact`.
ApiError NoSuchColumn(std::string_view field, std::string_view object);
ApiError IdInInsert();
ApiError IdMismatch(std::string_view id);
ApiError ReadOnlyFields(const std::vector<std::string>& fields);
ApiError StringTooLong(const FieldDef& field, std::string_view value);
ApiError BadRestrictedPicklist(const FieldDef& field, std::string_view value);
ApiError InvalidEmail(const FieldDef& field, std::string_view value);
ApiError NumberOutsideRange(const FieldDef& field, std::string_view value);
ApiError DuplicateValue(const FieldDef& field, std::string_view existing_id);
ApiError CustomValidation(const ObjectDef::Rule& rule);
// A reference whose value is not an id of the referenced object.
ApiError ReferenceOfWrongType(const FieldDef& field, std::string_view value);
ApiError InvalidCrossReference(const FieldDef& field);
// JSON_PARSER_ERROR: a JSON value that cannot become the field's type. `token` is Jackson's
// name of the JSON token (VALUE_STRING, VALUE_NUMBER_INT, ...).
ApiError JsonParserError(const FieldDef& field, std::string_view token, std::string_view text);
ApiError MalformedId(std::string_view id);
ApiError NotFound();
ApiError EntityIsDeleted();
ApiError CannotDelete();
ApiError UndeleteFailed();
ApiError RolledBack();
ApiError MultipleChoices(std::string_view field, std::string_view value);
ApiError NoSuchExternalIdField(std::string_view field);
ApiError UnknownObject(std::string_view object);
ApiError InvalidReplicationDate(std::string_view message);
ApiError ExceededIdLimit();
// A status of the SOQL engine (soql/errors.h) as the http 400 Salesforce answers.
ApiError FromQueryStatus(const absl::Status& status);

}  // namespace sfbridge::sfsim::org
