package sendwindow_test

import (
	"fmt"
	"time"

	"github.com/notifyhq/notify/internal/sendwindow"
)

// A mailing with a 09:00–21:00 window reaches a client in Yekaterinburg (UTC+5) at
// 09:00 their time, not the server's.
func ExampleWindow_Next() {
	w, err := sendwindow.Parse("09:00", "21:00")
	if err != nil {
		panic(err)
	}
	loc, err := sendwindow.LoadZone("Asia/Yekaterinburg")
	if err != nil {
		panic(err)
	}
	now := time.Date(2024, 1, 15, 0, 30, 0, 0, time.UTC) // 05:30 in Yekaterinburg

	fmt.Println(w.Contains(now, loc))
	fmt.Println(w.Next(now, loc).UTC())
	fmt.Println(w.Next(now, loc).In(loc))
	// Output:
	// false
	// 2024-01-15 04:00:00 +0000 UTC
	// 2024-01-15 09:00:00 +0500 +05
}

// Parse names the field at fault, so the REST and GraphQL layers can report it there.
func ExampleParse() {
	_, err := sendwindow.Parse("09:00", "24:00")
	fmt.Println(err)

	_, err = sendwindow.Parse("09:00", "09:00")
	fmt.Println(err)

	w, _ := sendwindow.Parse("22:00", "06:00")
	fmt.Println(w)
	// Output:
	// send window to: hour must be between 00 and 23
	// send window to: must differ from from
	// 22:00-06:00
}
