#include "sfsim/org/api_errors.h"

#include "common/core/strings.h"
#include "sfsim/soql/errors.h"

namespace sfbridge::sfsim::org {
namespace {

ApiError Error(int http_status, std::string code, std::string message,
               std::vector<std::string> fields = {}) {
  return ApiError{http_status, std::move(code), std::move(message), std::move(fields)};
}

}  // namespace

ApiError RequiredFieldMissing(const std::vector<std::string>& fields) {
  return Error(400, "REQUIRED_FIELD_MISSING",
               core::StrCat("Required fields are missing: [", core::StrJoin(fields, ", "), "]"),
               fields);
}

ApiError NoSuchColumn(std::string_view field, std::string_view object) {
  return Error(400, "INVALID_FIELD",
               core::StrCat("No such column '", field, "' on sobject of type ", object));
}

ApiError IdInInsert() {
  return Error(400, "INVALID_FIELD", "Record ID: cannot specify Id in an insert call", {"Id"});
}

ApiError IdMismatch(std::string_view id) {
  return Error(400, "INVALID_FIELD",
               core::StrCat("Record ID: the Id in the body does not match the record: ", id),
               {"Id"});
}

ApiError ReadOnlyFields(const std::vector<std::string>& fields) {
  return Error(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
               core::StrCat("Unable to create/update fields: ", core::StrJoin(fields, ", "),
                            ". Please check the security settings of this field and verify that "
                            "it is read/write for your profile or permission set."),
               fields);
}

ApiError StringTooLong(const FieldDef& field, std::string_view value) {
  return Error(400, "STRING_TOO_LONG",
               core::StrCat(field.label, ": data value too large: ", value,
                            " (max length=", field.length, ")"),
               {field.name});
}

ApiError BadRestrictedPicklist(const FieldDef& field, std::string_view value) {
  return Error(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
               core::StrCat(field.label, ": bad value for restricted picklist field: ", value),
               {field.name});
}

ApiError InvalidEmail(const FieldDef& field, std::string_view value) {
  return Error(400, "INVALID_EMAIL_ADDRESS",
               core::StrCat(field.label, ": invalid email address: ", value), {field.name});
}

ApiError NumberOutsideRange(const FieldDef& field, std::string_view value) {
  return Error(
      400, "NUMBER_OUTSIDE_VALID_RANGE",
      core::StrCat(field.label, ": value outside of valid range on numeric field: ", value),
      {field.name});
}

ApiError DuplicateValue(const FieldDef& field, std::string_view existing_id) {
  return Error(400, "DUPLICATE_VALUE",
               core::StrCat("duplicate value found: ", field.name,
                            " duplicates value on record with id: ", existing_id),
               {field.name});
}

ApiError CustomValidation(const ObjectDef::Rule& rule) {
  return Error(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, {rule.field});
}

ApiError ReferenceOfWrongType(const FieldDef& field, std::string_view value) {
  return Error(400, "MALFORMED_ID",
               core::StrCat(field.label, ": id value of incorrect type: ", value), {field.name});
}

ApiError InvalidCrossReference(const FieldDef& field) {
  return Error(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", {field.name});
}

ApiError JsonParserError(const FieldDef& field, std::string_view token, std::string_view text) {
  return Error(
      400, "JSON_PARSER_ERROR",
      core::StrCat("Cannot deserialize instance of ", soql::SoapTypeName(field.soql_type), " from ",
                   token, " value ", text, " or request may be missing a required field"));
}

ApiError MalformedId(std::string_view id) {
  return Error(400, "MALFORMED_ID", core::StrCat("malformed id ", id));
}

ApiError NotFound() { return Error(404, "NOT_FOUND", "The requested resource does not exist"); }

ApiError EntityIsDeleted() { return Error(404, "ENTITY_IS_DELETED", "entity is deleted"); }

ApiError CannotDelete() {
  return Error(400, "INSUFFICIENT_ACCESS_OR_READONLY", "entity type cannot be deleted");
}

ApiError UndeleteFailed() {
  return Error(400, "UNDELETE_FAILED", "Entity is not in the recycle bin");
}

ApiError RolledBack() {
  return Error(400, "ALL_OR_NONE_OPERATION_ROLLED_BACK",
               "Record rolled back because not all records were valid and the request was using "
               "AllOrNone header");
}

ApiError MultipleChoices(std::string_view field, std::string_view value) {
  return Error(300, "MULTIPLE_CHOICES",
               core::StrCat("The value '", value, "' of external ID field ", field,
                            " matches more than one record"),
               {std::string(field)});
}

ApiError NoSuchExternalIdField(std::string_view field) {
  return Error(
      404, "NOT_FOUND",
      core::StrCat("Provided external ID field does not exist or is not accessible: ", field));
}

ApiError UnknownObject(std::string_view object) {
  return Error(404, "NOT_FOUND",
               core::StrCat("The requested resource does not exist: sObject type '", object,
                            "' is not supported"));
}

ApiError InvalidReplicationDate(std::string_view message) {
  return Error(400, "INVALID_REPLICATION_DATE", std::string(message));
}

ApiError ExceededIdLimit() {
  return Error(400, "EXCEEDED_ID_LIMIT",
               "record limit reached. cannot submit more than 600000 ids");
}

ApiError FromQueryStatus(const absl::Status& status) {
  return Error(400, soql::SalesforceErrorCode(status), core::ToString(status.message()));
}

}  // namespace sfbridge::sfsim::org
