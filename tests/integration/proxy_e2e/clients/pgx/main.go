// A batch of writes through sfbridge-proxy with pgx's SendBatch (one pipeline, one Sync): five
// Accounts (AccountNumber TAG-1 .. TAG-5), the third without a Name when BAD is 1.
//
// Usage: pgx_client URL TAG BAD
// Prints {"error": SQLSTATE or null, "rows": the batch's rows read back through the proxy}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: pgx_client URL TAG BAD")
		os.Exit(2)
	}
	url, tag, bad := os.Args[1], os.Args[2], os.Args[3] == "1"
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	defer conn.Close(ctx)

	batch := &pgx.Batch{}
	for i := 1; i <= 5; i++ {
		var name any = fmt.Sprintf("%s batch %d", tag, i)
		if bad && i == 3 {
			name = nil
		}
		batch.Queue("INSERT INTO salesforce.account (name, account_number) VALUES ($1, $2)",
			name, fmt.Sprintf("%s-%d", tag, i))
	}
	var sqlstate any
	results := conn.SendBatch(ctx, batch)
	for i := 0; i < batch.Len(); i++ {
		if _, err := results.Exec(); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && sqlstate == nil {
				sqlstate = pgErr.Code
			}
		}
	}
	if err := results.Close(); err != nil && sqlstate == nil {
		fmt.Fprintln(os.Stderr, "batch:", err)
		os.Exit(1)
	}

	var rows int64
	if err := conn.QueryRow(ctx,
		"SELECT count(*) FROM salesforce.account WHERE account_number LIKE $1",
		tag+"-%").Scan(&rows); err != nil {
		fmt.Fprintln(os.Stderr, "count:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]any{"error": sqlstate, "rows": rows})
	fmt.Println(string(out))
}
