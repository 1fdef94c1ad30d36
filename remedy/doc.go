// Package remedy acts on a Mailgun account to repair what a diagnosis
// found: it removes suppressions (chosen from an analyze.Suppressed
// result, one address at a time, after a CSV backup of each list), puts
// them back from such a backup, and sends a stored message again, with
// the guards of each (dry runs, backups first, complaints and
// unsubscribes only when named, the original recipient or an approver,
// the API key only for Mailgun's hosts). Every action, dry runs and
// refusals too, is recorded in the audit under the identity the caller
// gives, with the API key taken out of every text.
//
// It prints nothing: results are the --output json contracts of the
// maildiag commands, errors are typed for the caller to word.
package remedy
