package kpi

import (
	"testing"
)

// TestTeamFiguresAggregateReps: every count and sum of a team's KPIs is
// the sum of its reps' (each rep's joins stay within the rep), its means
// and ratios are pooled over the team's records (the proto's "mean ...
// per field day", "per connected call": not a mean of the reps' means),
// and a time breakdown by day sums to the one by rep. (The sweet spot is
// not additive: a visit counts as won when any rep of the input won its
// client; see the package doc.)
func TestTeamFiguresAggregateReps(t *testing.T) {
	in := goldenWeek()
	team := Compute(in)
	var sum Result
	var idleS, fieldS, talkN float64
	for _, rep := range in.Reps {
		r := Compute(onlyRep(in, rep.ID))
		sum.Idle.Days += r.Idle.Days
		sum.Idle.IdleS += r.Idle.IdleS
		sum.Idle.TravelS += r.Idle.TravelS
		sum.VisitTime.Records += r.VisitTime.Records
		sum.VisitTime.ProspectS += r.VisitTime.ProspectS
		sum.VisitTime.CustomerS += r.VisitTime.CustomerS
		for i := range sum.VisitTime.Histogram {
			sum.VisitTime.Histogram[i] += r.VisitTime.Histogram[i]
		}
		sum.Meetings.Planned += r.Meetings.Planned
		sum.Meetings.Kept += r.Meetings.Kept
		sum.Calls.Calls += r.Calls.Calls
		sum.Calls.Connected += r.Calls.Connected
		talkN += r.Calls.MeanTalkS * float64(r.Calls.Connected)
		sum.WinRatio.Wins += r.WinRatio.Wins
		sum.WinRatio.Meetings += r.WinRatio.Meetings
		sum.Rejection.WithOutcome += r.Rejection.WithOutcome
		sum.Rejection.Rejections += r.Rejection.Rejections
		sum.Cadence.Due += r.Cadence.Due
		sum.Cadence.Done += r.Cadence.Done
		sum.Engagement.CustomerVisits += r.Engagement.CustomerVisits
		sum.Engagement.CustomerCalls += r.Engagement.CustomerCalls
		sum.Quota.Won.AmountMinor += r.Quota.Won.AmountMinor
		sum.Quota.Quota.AmountMinor += r.Quota.Quota.AmountMinor
		idleS += float64(r.Idle.IdleS)
		fieldS += ratio(float64(r.Idle.IdleS), r.Idle.IdleShare)
	}
	if team.Idle.Days != sum.Idle.Days || team.Idle.IdleS != sum.Idle.IdleS || team.Idle.TravelS != sum.Idle.TravelS {
		t.Errorf("team idle %+v, reps' sums %+v", team.Idle, sum.Idle)
	}
	if team.VisitTime.Records != sum.VisitTime.Records || team.VisitTime.ProspectS != sum.VisitTime.ProspectS ||
		team.VisitTime.CustomerS != sum.VisitTime.CustomerS || team.VisitTime.Histogram != sum.VisitTime.Histogram {
		t.Errorf("team visit time %+v, reps' sums %+v", team.VisitTime, sum.VisitTime)
	}
	if team.Meetings.Planned != sum.Meetings.Planned || team.Meetings.Kept != sum.Meetings.Kept ||
		team.Calls.Calls != sum.Calls.Calls || team.Calls.Connected != sum.Calls.Connected ||
		team.WinRatio.Wins != sum.WinRatio.Wins || team.WinRatio.Meetings != sum.WinRatio.Meetings ||
		team.Rejection.WithOutcome != sum.Rejection.WithOutcome || team.Rejection.Rejections != sum.Rejection.Rejections ||
		team.Cadence.Due != sum.Cadence.Due || team.Cadence.Done != sum.Cadence.Done ||
		team.Engagement.CustomerVisits != sum.Engagement.CustomerVisits || team.Engagement.CustomerCalls != sum.Engagement.CustomerCalls ||
		team.Quota.Won.AmountMinor != sum.Quota.Won.AmountMinor || team.Quota.Quota.AmountMinor != sum.Quota.Quota.AmountMinor {
		t.Errorf("team counts differ from the reps' sums:\n team %+v\n sums %+v", team, sum)
	}
	// Pooled, not a mean of means: ani's 4 field days weigh more than bob's 3.
	near(t, "team idle per day", team.Idle.IdleSPerDay, idleS/float64(sum.Idle.Days))
	near(t, "team idle share", team.Idle.IdleShare, idleS/fieldS)
	near(t, "team mean talk", team.Calls.MeanTalkS, talkN/float64(sum.Calls.Connected))
	near(t, "team visits per day", team.Meetings.VisitsPerDay, float64(sum.VisitTime.Records)/float64(sum.Idle.Days))

	byRep := Breakdown(in.Reps, in.Start, in.End, false)
	byDay := Breakdown(in.Reps, in.Start, in.End, true)
	var a, b Totals
	var da, db int
	for _, r := range byRep {
		a.Add(r.Totals)
		da += r.FieldDays
	}
	for _, r := range byDay {
		b.Add(r.Totals)
		db += r.FieldDays
	}
	if a != b || da != db || da != team.Idle.Days {
		t.Errorf("breakdown by rep %+v over %d field days, by day %+v over %d; KPIs rest on %d", a, da, b, db, team.Idle.Days)
	}
}
