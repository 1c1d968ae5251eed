package taskcron_test

import (
	"fmt"
	"time"

	taskcron "github.com/taskware/taskware/contrib/cron"
	"github.com/taskware/taskware/schedule"
)

// Weekdays at 09:00 in New York, across the day its clocks move to summer
// time: the same wall-clock hour, an hour earlier in UTC. The tick's task
// ID is in UTC.
func ExampleParse() {
	s, err := taskcron.Parse("CRON_TZ=America/New_York 0 9 * * mon-fri")
	if err != nil {
		fmt.Println(err)
		return
	}
	newYork, _ := time.LoadLocation("America/New_York")
	at := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC) // a Friday
	for range 3 {
		at = s.Next(at)
		fmt.Printf("%-22s %s\n", at.In(newYork).Format("Mon Jan 2 15:04 MST"), schedule.TickID("standup", at))
	}
	// Output:
	// Fri Mar 6 09:00 EST    standup@2026-03-06T14:00:00Z
	// Mon Mar 9 09:00 EDT    standup@2026-03-09T13:00:00Z
	// Tue Mar 10 09:00 EDT   standup@2026-03-10T13:00:00Z
}

// An expression that does not parse says why.
func ExampleParse_error() {
	_, err := taskcron.Parse("0 25 * * *")
	fmt.Println(err)
	// Output:
	// taskware: invalid configuration: taskcron: "0 25 * * *": end of range (25) above maximum (23): 25
}
