// The replies a session is owed by the server, fed message types as Postgres sends them: no
// servers.
#include "proxy/pending_replies.h"

#include <gtest/gtest.h>

#include "proxy/pg_message_types.h"

namespace sfbridge::proxy {
namespace {

namespace be = wire::backend;

TEST(PendingRepliesTest, ExtendedProtocolRepliesEndInOrderUpToReadyForQuery) {
  PendingReplies replies;
  replies.Sent(Request::kParse, Route::kClient);
  replies.Sent(Request::kBind, Route::kClient);
  replies.Sent(Request::kDescribe, Route::kClient);
  replies.Sent(Request::kExecute, Route::kClient);
  replies.Sent(Request::kSync, Route::kClient);
  replies.OnMessage(be::kParseComplete);
  ASSERT_NE(replies.front(), nullptr);
  EXPECT_EQ(replies.front()->request, Request::kBind);
  replies.OnMessage(be::kBindComplete);
  replies.OnMessage(be::kRowDescription);
  EXPECT_EQ(replies.front()->request, Request::kExecute);
  replies.OnMessage(be::kDataRow);  // rows do not end an Execute
  replies.OnMessage(be::kDataRow);
  EXPECT_EQ(replies.front()->request, Request::kExecute);
  replies.OnMessage(be::kCommandComplete);
  EXPECT_EQ(replies.front()->request, Request::kSync);
  EXPECT_FALSE(replies.OnReadyForQuery());
  EXPECT_TRUE(replies.empty());
}

TEST(PendingRepliesTest, DescribeOfAStatementEndsOnlyAfterItsRowDescriptionOrNoData) {
  PendingReplies replies;
  replies.Sent(Request::kDescribeStatement, Route::kClient);
  replies.OnMessage(be::kParameterDescription);
  EXPECT_FALSE(replies.empty());
  replies.OnMessage(be::kNoData);
  EXPECT_TRUE(replies.empty());

  // The byte 'd' is CopyData on the wire: it must not be taken for a Describe.
  replies.Sent(Request::kDescribeStatement, Route::kClient);
  replies.OnMessage(be::kCopyData);
  replies.OnMessage(be::kRowDescription);  // not yet: ParameterDescription comes first
  EXPECT_FALSE(replies.empty());
  replies.OnMessage(be::kParameterDescription);
  replies.OnMessage(be::kRowDescription);
  EXPECT_TRUE(replies.empty());
}

TEST(PendingRepliesTest, EachRequestEndsWithItsOwnLastMessage) {
  struct Case {
    Request request;
    char last;
  };
  for (const Case& c :
       {Case{Request::kParse, be::kParseComplete}, Case{Request::kBind, be::kBindComplete},
        Case{Request::kDescribe, be::kNoData}, Case{Request::kExecute, be::kPortalSuspended},
        Case{Request::kExecute, be::kEmptyQueryResponse}, Case{Request::kClose, be::kCloseComplete},
        Case{Request::kFunctionCall, be::kFunctionCallResponse}}) {
    PendingReplies replies;
    replies.Sent(c.request, Route::kClient);
    replies.OnMessage(be::kNoticeResponse);
    EXPECT_FALSE(replies.empty()) << c.last;
    replies.OnMessage(c.last);
    EXPECT_TRUE(replies.empty()) << c.last;
  }
}

TEST(PendingRepliesTest, AnErrorDropsTheRepliesUpToTheSyncAndWhatIsSentBeforeOne) {
  PendingReplies replies;
  replies.Sent(Request::kParse, Route::kCapture);
  replies.Sent(Request::kBind, Route::kCapture);
  replies.Sent(Request::kExecute, Route::kCapture);
  replies.Sent(Request::kSync, Route::kClient);
  replies.OnError();
  ASSERT_NE(replies.front(), nullptr);
  EXPECT_EQ(replies.front()->request, Request::kSync);
  EXPECT_FALSE(replies.server_discarding());  // the Sync is already on its way

  PendingReplies no_sync;
  no_sync.Sent(Request::kParse, Route::kCapture);
  no_sync.Sent(Request::kExecute, Route::kCapture);
  no_sync.OnError();
  EXPECT_TRUE(no_sync.empty());
  EXPECT_TRUE(no_sync.server_discarding());
  no_sync.Sent(Request::kExecute, Route::kClient);  // skipped by the server: nothing owed
  EXPECT_TRUE(no_sync.empty());
  no_sync.Sent(Request::kSync, Route::kClient);
  EXPECT_FALSE(no_sync.server_discarding());
  EXPECT_EQ(no_sync.front()->request, Request::kSync);
}

TEST(PendingRepliesTest, AnErrorInASimpleQueryWaitsForItsReadyForQuery) {
  PendingReplies replies;
  replies.Sent(Request::kQuery, Route::kClient);
  replies.OnError();
  EXPECT_FALSE(replies.server_discarding());
  ASSERT_NE(replies.front(), nullptr);
  EXPECT_EQ(replies.front()->request, Request::kQuery);
  replies.OnReadyForQuery();
  EXPECT_TRUE(replies.empty());
}

TEST(PendingRepliesTest, SyncsBehindACopyAreNotOwedAReadyForQuery) {
  PendingReplies replies;
  replies.Sent(Request::kQuery, Route::kClient);
  replies.Sent(Request::kSync, Route::kClient);
  replies.OnCopyIn();
  EXPECT_TRUE(replies.copy_in());
  replies.Sent(Request::kSync, Route::kClient);  // ignored by Postgres in COPY-in mode
  replies.OnReadyForQuery();
  EXPECT_TRUE(replies.empty());
  EXPECT_FALSE(replies.copy_in());
}

TEST(PendingRepliesTest, ACopyKeepsTheSyncAtTheFrontItAnswers) {
  PendingReplies replies;
  replies.Sent(Request::kSync, Route::kClient);
  replies.Sent(Request::kExecute, Route::kClient);
  replies.Sent(Request::kSync, Route::kClient);
  replies.OnCopyIn();
  EXPECT_EQ(replies.front()->request, Request::kSync);
  replies.OnReadyForQuery();
  EXPECT_EQ(replies.front()->request, Request::kExecute);
  replies.OnCopyEnd();
  replies.OnMessage(be::kCommandComplete);
  EXPECT_TRUE(replies.empty());
}

TEST(PendingRepliesTest, TheSessionsOwnSyncIsToldApartFromTheClients) {
  PendingReplies replies;
  replies.Sent(Request::kSync, Route::kRaise);
  replies.Sent(Request::kSync, Route::kClient);
  EXPECT_EQ(replies.route(), Route::kRaise);
  EXPECT_TRUE(replies.OnReadyForQuery());
  EXPECT_EQ(replies.route(), Route::kClient);
  EXPECT_FALSE(replies.OnReadyForQuery());
  EXPECT_TRUE(replies.empty());
  EXPECT_EQ(replies.route(), Route::kClient);  // what the server sends by itself
  EXPECT_FALSE(replies.OnReadyForQuery());     // one nobody asked for changes nothing
  EXPECT_TRUE(replies.empty());
}

}  // namespace
}  // namespace sfbridge::proxy
