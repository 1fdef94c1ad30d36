package synth

// reply is a remote server's answer (or a Mailgun-internal outcome) as
// Mailgun records it. text is a template; see expand for its $ codes.
// Mailgun strips the leading SMTP code from each line, so most texts start
// with the enhanced code; a few keep the whole reply, as real data does.
type reply struct {
	code     int
	enhanced string // the enhanced-code field; sometimes empty although text has one
	text     string
	desc     string // Mailgun's description
	reason   string // reason when the reply ends the message (or defers it)
	hard     bool   // a recipient error: bounce-type hard, and the bounce list
	noMX     bool   // no SMTP session: no mx-host, zero session time
	slow     bool   // connection timeouts: a long session
}

func (r *reply) temporary() bool {
	return r.code/100 == 4 || r.code == 498 || r.code == 499 || r.code == 680
}

// replyClass groups replies by what they mean, so that each gateway can
// answer in its own words.
type replyClass uint8

const (
	rcOK replyClass = iota
	rcUserUnknown
	rcDisabled
	rcFullTemp
	rcFullPerm
	rcContent    // spam content or authentication
	rcPolicy     // a policy block by the provider
	rcReputation // sending IP on a block list
	rcDeferral   // rate or reputation deferral, temporary
	rcGreylist
	rcTooLarge
	rcDelayed // the text of an asynchronous bounce (NDR)
	numReplyClasses
)

// Template codes for reply texts:
//
//	$A recipient address       $D recipient domain     $S sending domain
//	$B sender's site (DMARC)   $I sending IP           $T epoch seconds
//	$G Google queue id         $M Microsoft host       $Z ISO time, ms
//	$X 16 hex digits           $N 14-digit number      $R Mimecast reference
//	$Q postfix queue id        $P Proofpoint queue id  $K message id
//	$E message size            $L transfer rate        $Y Yahoo host
var gatewayReplies = map[gateway][numReplyClasses][]*reply{
	gwGmail:     googleReplies,
	gwWorkspace: googleReplies,
	gwOutlook: {
		rcOK: {{code: 250, enhanced: "2.6.0", text: "2.6.0 <$K> [InternalId=$N, Hostname=$M] $E bytes in $L KB/sec Queued mail for delivery"}},
		rcUserUnknown: {
			{code: 550, enhanced: "5.5.0", text: "5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [$M]", reason: ReasonBounce, hard: true},
			{code: 550, enhanced: "", text: "5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [$M $Z $X]", reason: ReasonBounce, hard: true},
		},
		rcFullPerm: {{code: 552, enhanced: "5.2.2", text: "5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot open mailbox.[EndDiagnosticData] [Hostname=$M]", reason: ReasonGeneric}},
		rcDeferral: {
			{code: 451, enhanced: "4.7.650", text: msDeferral650, reason: ReasonGeneric},
			{code: 451, enhanced: "4.7.652", text: "4.7.652 The mail server [$I] has exceeded the maximum number of connections. [$M]", reason: ReasonGeneric},
		},
		rcReputation: {
			{code: 550, enhanced: "5.7.1", text: msBlockS3150, reason: ReasonBlacklisted},
			{code: 550, enhanced: "5.7.606", text: "5.7.606 Access denied, banned sending IP [$I]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to  http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) [$M $Z $X]", reason: ReasonBlacklisted},
		},
	},
	gwM365: {
		rcOK: {{code: 250, enhanced: "2.6.0", text: "2.6.0 <$K> [InternalId=$N, Hostname=$M] $E bytes in $L KB/sec Queued mail for delivery -> 250 2.1.5"}},
		rcUserUnknown: {
			{code: 550, enhanced: "5.4.1", text: "5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [$M $Z $X]", reason: ReasonBounce, hard: true},
		},
		rcPolicy: {{code: 550, enhanced: "5.7.133", text: "5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed because the sender was not authenticated when sending to this group [$M $Z $X]", reason: ReasonGeneric}},
		rcDeferral: {
			{code: 451, enhanced: "4.7.650", text: msDeferral650, reason: ReasonGeneric},
			{code: 451, enhanced: "4.7.500", text: "4.7.500 Server busy. Please try again later from [$I]. (S77719) [$M]", reason: ReasonGeneric},
		},
		rcReputation: {
			{code: 550, enhanced: "5.7.1", text: msBlockS3150, reason: ReasonBlacklisted},
			{code: 550, enhanced: "5.7.1", text: "5.7.1 Service unavailable, Client host [$I] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/$I AS(1450) [$M $Z $X]", reason: ReasonBlacklisted},
		},
		rcDelayed: {{code: 550, enhanced: "5.1.10", text: "smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", reason: ReasonBounce, hard: true}},
	},
	gwYahoo: {
		rcOK: {{code: 250, text: "ok dirdel"}},
		rcUserUnknown: {
			{code: 552, text: "1 Requested mail action aborted, mailbox not found", reason: ReasonBounce, hard: true},
			{code: 552, text: "552 1 Requested mail action aborted, mailbox not found", reason: ReasonBounce, hard: true},
			{code: 554, text: "delivery error: dd This user doesn't have a $D account ($A) [0] - $Y", reason: ReasonBounce, hard: true},
		},
		rcDisabled: {{code: 554, text: "30 Sorry, your message to $A cannot be delivered. This mailbox is disabled (554.30).", reason: ReasonBounce, hard: true}},
		rcPolicy:   {{code: 554, enhanced: "5.7.9", text: "5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes", reason: ReasonESPBlock}},
		rcReputation: {
			{code: 553, text: "5.7.1 [BL21] Connections will not be accepted from $I, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes", reason: ReasonBlacklisted},
		},
		rcDeferral: {
			{code: 421, enhanced: "", text: "4.7.0 [TSS04] Messages from $I temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes", reason: ReasonGeneric},
			{code: 421, enhanced: "4.7.0", text: "4.7.0 [TSS04] Messages from $I temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes", reason: ReasonGeneric},
		},
	},
	gwICloud: {
		rcOK:          {{code: 250, enhanced: "2.0.0", text: "2.0.0 Ok: queued as $Q"}},
		rcUserUnknown: {{code: 550, enhanced: "5.1.1", text: "5.1.1 <$A>: user does not exist", reason: ReasonBounce, hard: true}},
		rcFullTemp:    {{code: 452, enhanced: "4.2.2", text: "4.2.2 <$A>: user is over quota", reason: ReasonGeneric}},
		rcPolicy:      {{code: 554, enhanced: "5.7.1", text: "5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137", reason: ReasonESPBlock}},
	},
	gwGMX: {
		rcOK:          {{code: 250, text: "Requested mail action okay, completed: id=$Q"}},
		rcUserUnknown: {{code: 550, text: "Requested action not taken: mailbox unavailable", reason: ReasonBounce, hard: true}},
		rcReputation: {
			{code: 554, text: "554-gmx.net (mxgmx014) Nemesis ESMTP Service not available\n554-No SMTP service\n554-IP address is black listed.\n554 For explanation visit https://postmaster.gmx.net/en/error-messages?ip=$I&c=ipbl", reason: ReasonBlacklisted},
		},
	},
	gwOtherFree: {
		rcOK:          {{code: 250, enhanced: "2.0.0", text: "2.0.0 <$K> mail accepted for delivery"}},
		rcUserUnknown: {{code: 550, enhanced: "5.1.1", text: "5.1.1 <$A> recipient does not exist here.", reason: ReasonBounce, hard: true}},
	},
	gwMimecast: {
		rcOK:          {{code: 250, text: "Ok [$R]"}},
		rcUserUnknown: {{code: 550, text: "Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550 [$R]", reason: ReasonBounce, hard: true}},
		rcPolicy: {
			mimecastUserEntry,
			{code: 554, text: "Email rejected due to security policies - https://community.mimecast.com/docs/DOC-1369#554 [$R]", reason: ReasonESPBlock},
			{code: 550, text: "Rejected by header based Anti-Spoofing policy: $A - https://community.mimecast.com/docs/DOC-1369#550 [$R]", reason: ReasonGeneric},
		},
		rcReputation: {{code: 550, text: "csi.mimecast.org Poor Reputation Sender. - https://community.mimecast.com/docs/DOC-1369#550 [$R]", reason: ReasonBlacklisted}},
		rcGreylist:   {{code: 451, text: "Internal resource temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451 [$R]", reason: ReasonGreylisted}},
	},
	gwProofpoint: {
		rcOK:          {{code: 250, enhanced: "2.0.0", text: "2.0.0 $P Message accepted for delivery"}},
		rcUserUnknown: {{code: 550, enhanced: "5.1.1", text: "5.1.1 User Unknown", reason: ReasonBounce, hard: true}},
		rcReputation: {
			{code: 554, enhanced: "5.7.1", text: "5.7.1 Blocked - see https://ipcheck.proofpoint.com/?ip=$I", reason: ReasonBlacklisted},
			{code: 554, enhanced: "", text: "554 5.7.1 Blocked - see https://ipcheck.proofpoint.com/?ip=$I", reason: ReasonBlacklisted},
		},
	},
	gwBarracuda: {
		rcOK:          {{code: 250, text: "Ok: queued as $Q"}},
		rcUserUnknown: {{code: 550, text: "permanent failure for one or more recipients ($A:550 5.1.1 <$A>: Recipient address rejected: User unknown in virtual alias table)", reason: ReasonBounce, hard: true}},
		rcPolicy:      {{code: 550, text: "permanent failure for one or more recipients ($A:blocked)", reason: ReasonESPBlock}},
		rcReputation:  {{code: 554, text: "Service unavailable; Client host [$I] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=$I", reason: ReasonBlacklisted}},
		rcDelayed:     {{code: 550, enhanced: "5.1.1", text: "smtp; 550 5.1.1 <$A>: Recipient address rejected: User unknown in virtual alias table", reason: ReasonBounce, hard: true}},
	},
	gwSelfHosted: {
		rcOK: {{code: 250, enhanced: "2.0.0", text: "2.0.0 Ok: queued as $Q"}},
		rcUserUnknown: {
			{code: 550, enhanced: "5.1.1", text: "5.1.1 <$A>: Recipient address rejected: User unknown in virtual mailbox table", reason: ReasonBounce, hard: true},
			{code: 550, enhanced: "", text: "No Such User Here", reason: ReasonBounce, hard: true},
			{code: 550, enhanced: "", text: "550-Verification failed for <$A>\n550-No Such User Here\n550 Sender verify failed", reason: ReasonBounce, hard: true},
		},
		rcDisabled: {{code: 550, enhanced: "5.2.1", text: "5.2.1 <$A>: Mailbox disabled, not accepting messages", reason: ReasonBounce, hard: true}},
		rcFullTemp: {{code: 452, enhanced: "4.2.2", text: "4.2.2 <$A>: Recipient address rejected: Mailbox full", reason: ReasonGeneric}},
		rcFullPerm: {{code: 552, enhanced: "5.2.2", text: "5.2.2 <$A>: Recipient address rejected: Mailbox full", reason: ReasonGeneric}},
		rcReputation: {
			{code: 554, enhanced: "5.7.1", text: "5.7.1 Service unavailable; Client host [$I] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/$I", reason: ReasonBlacklisted},
		},
		rcGreylist: {
			{code: 450, enhanced: "4.2.0", text: "4.2.0 <$A>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/$D.html", reason: ReasonGreylisted},
			{code: 451, enhanced: "4.7.1", text: "4.7.1 <$A>: Recipient address rejected: Greylisting in action, please come back later", reason: ReasonGreylisted},
			{code: 450, enhanced: "", text: "Recipient address rejected: Greylisted", reason: ReasonGreylisted},
		},
		rcTooLarge: {{code: 552, enhanced: "5.3.4", text: "5.3.4 Error: message file too big", reason: ReasonGeneric}},
		rcDelayed:  {{code: 550, enhanced: "5.1.1", text: "smtp; 550 5.1.1 <$A>: Recipient address rejected: User unknown in local recipient table", reason: ReasonBounce, hard: true}},
	},
}

// googleReplies are Gmail's, used by Google Workspace domains too.
var googleReplies = [numReplyClasses][]*reply{
	rcOK: {{code: 250, enhanced: "2.0.0", text: "2.0.0 OK  $T $G - gsmtp"}},
	rcUserUnknown: {
		{code: 550, enhanced: "5.1.1", text: gmailNoSuchUser, reason: ReasonBounce, hard: true},
		{code: 550, enhanced: "", text: gmailNoSuchUser, reason: ReasonBounce, hard: true},
	},
	rcDisabled: {{code: 550, enhanced: "5.2.1", text: "5.2.1 The email account that you tried to reach is disabled.\n5.2.1  https://support.google.com/mail/?p=DisabledUser $G - gsmtp", reason: ReasonBounce, hard: true}},
	rcFullTemp: {{code: 452, enhanced: "4.2.2", text: "4.2.2 The recipient's inbox is out of storage space. Please direct the\n4.2.2 recipient to\n4.2.2  https://support.google.com/mail/?p=OverQuotaTemp $G - gsmtp", reason: ReasonGeneric}},
	rcFullPerm: {{code: 552, enhanced: "5.2.2", text: "5.2.2 The recipient's inbox is out of storage space and inactive. Please direct\n5.2.2 the recipient to\n5.2.2  https://support.google.com/mail/?p=OverQuotaPerm $G - gsmtp", reason: ReasonGeneric}},
	rcContent: {
		{code: 550, enhanced: "5.7.1", text: "5.7.1 [$I      19] Our system has detected that this message is\n5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\n5.7.1 this message has been blocked. For more information, go to\n5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError $G - gsmtp", reason: ReasonGeneric},
		{code: 550, enhanced: "5.7.26", text: "5.7.26 Unauthenticated email from $B is not accepted due to domain's\n5.7.26 DMARC policy. Please contact the administrator of $B domain\n5.7.26 if this was a legitimate mail. To learn about the DMARC initiative, go to\n5.7.26  https://support.google.com/mail/?p=DmarcRejection $G - gsmtp", reason: ReasonGeneric},
		{code: 550, enhanced: "5.7.26", text: "5.7.26 This mail has been blocked because the sender is unauthenticated.\n5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\n5.7.26 \n5.7.26  Authentication results:\n5.7.26  DKIM = did not pass\n5.7.26  SPF [$S] with ip: [$I] = did not pass\n5.7.26 \n5.7.26  For instructions on setting up authentication, go to\n5.7.26  https://support.google.com/mail/answer/81126#authentication $G - gsmtp", reason: ReasonGeneric},
	},
	rcDeferral: {
		gmailRateLimit,
		{code: 450, enhanced: "4.2.1", text: "4.2.1 The user you are trying to contact is receiving mail at a rate that\n4.2.1 prevents additional messages from being delivered. Please resend your\n4.2.1 message at a later point. If the user is able to receive mail at that\n4.2.1 time, your message will be delivered. For more information, go to\n4.2.1  https://support.google.com/mail/?p=ReceivingRate $G - gsmtp", reason: ReasonGeneric},
	},
	rcTooLarge: {{code: 552, enhanced: "5.3.4", text: "5.3.4 Your message exceeded Google's message size limits. For more information,\n5.3.4 visit  https://support.google.com/mail/?p=MaxSizeError $G - gsmtp", reason: ReasonGeneric}},
	rcDelayed:  {{code: 550, enhanced: "5.1.1", text: "smtp; 550-5.1.1 The email account that you tried to reach does not exist.", reason: ReasonBounce, hard: true}},
}

// fallbackReplies answer for gateways without their own words for a class.
var fallbackReplies = [numReplyClasses][]*reply{
	rcOK:          {{code: 250, enhanced: "2.0.0", text: "2.0.0 Ok: queued as $Q"}},
	rcUserUnknown: {{code: 550, enhanced: "5.1.1", text: "5.1.1 <$A>: Recipient address rejected: User unknown", reason: ReasonBounce, hard: true}},
	rcDisabled:    {{code: 550, enhanced: "5.2.1", text: "5.2.1 Mailbox disabled, not accepting messages", reason: ReasonBounce, hard: true}},
	rcFullTemp:    {{code: 452, enhanced: "4.2.2", text: "4.2.2 Mailbox full", reason: ReasonGeneric}},
	rcFullPerm:    {{code: 552, enhanced: "5.2.2", text: "5.2.2 Mailbox full", reason: ReasonGeneric}},
	rcContent:     {{code: 550, enhanced: "5.7.1", text: "5.7.1 Message rejected as spam by Content Filtering.", reason: ReasonGeneric}},
	rcPolicy:      {{code: 550, enhanced: "5.7.1", text: "5.7.1 Delivery not authorized, message refused", reason: ReasonESPBlock}},
	rcReputation:  {{code: 554, enhanced: "5.7.1", text: "5.7.1 Service unavailable; Client host [$I] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/$I", reason: ReasonBlacklisted}},
	rcDeferral: {
		{code: 421, enhanced: "4.3.2", text: "4.3.2 Service not available, closing transmission channel", reason: ReasonGeneric},
		noConnect,
		turretFailed,
	},
	rcGreylist: {{code: 450, enhanced: "4.2.0", text: "4.2.0 <$A>: Recipient address rejected: Greylisted", reason: ReasonGreylisted}},
	rcTooLarge: {{code: 552, enhanced: "5.3.4", text: "5.3.4 Message size exceeds fixed maximum message size", reason: ReasonGeneric}},
	rcDelayed:  {{code: 550, enhanced: "5.1.1", text: "smtp; 550 5.1.1 <$A>: Recipient address rejected: User unknown in local recipient table", reason: ReasonBounce, hard: true}},
}

// Replies the stories and the Mailgun pipeline use by name.
var (
	gmailNoSuchUser = "5.1.1 The email account that you tried to reach does not exist. Please try\n5.1.1 double-checking the recipient's email address for typos or\n5.1.1 unnecessary spaces. For more information, go to\n5.1.1  https://support.google.com/mail/?p=NoSuchUser $G - gsmtp"

	msDeferral650 = "4.7.650 The mail server [$I] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S775) [Name=Protocol Filter Agent][AGT=PFA][MxId=$X] [$M]"
	msBlockS3150  = "5.7.1 Unfortunately, messages from [$I] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [$M $Z $X]"

	gmailRateLimit    = &reply{code: 421, enhanced: "4.7.28", text: "4.7.28 [$I      15] Our system has detected an unusual rate of\n4.7.28 unsolicited mail originating from your IP address. To protect our\n4.7.28 users from spam, mail sent from your IP address has been temporarily\n4.7.28 rate limited. For more information, go to\n4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to\n4.7.28 review our Bulk Email Senders Guidelines. $G - gsmtp", reason: ReasonGeneric}
	mimecastUserEntry = &reply{code: 550, text: "Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550 [$R]", reason: ReasonBounce, hard: true}
	msDeferral        = &reply{code: 451, enhanced: "4.7.650", text: msDeferral650, reason: ReasonGeneric}
	msBlock           = &reply{code: 550, enhanced: "5.7.1", text: msBlockS3150, reason: ReasonBlacklisted}
	gmailUnknown      = &reply{code: 550, enhanced: "5.1.1", text: gmailNoSuchUser, reason: ReasonBounce, hard: true}
	plainOK           = &reply{code: 250, text: "OK"}

	noMX         = &reply{code: 498, text: "No MX for $D", desc: "No MX for $D", reason: ReasonGeneric, noMX: true}
	noConnect    = &reply{code: 499, text: "Unable to connect to MX servers: [$D]", reason: ReasonGeneric, noMX: true}
	turretFailed = &reply{code: 680, text: "Turret client: server connection failed", reason: ReasonGeneric, slow: true}
	tooOld       = &reply{code: 602, text: "Too old", reason: ReasonOld, noMX: true}

	delayedDesc = "I'm sorry to have to inform you that your message could not be delivered to one or more recipients."
)

// drops are Mailgun's suppression outcomes: no SMTP session at all.
var (
	dropBounce      = &reply{code: 605, desc: "Not delivering to previously bounced address", reason: ReasonSuppressBounce, noMX: true}
	dropUnsubscribe = &reply{code: 606, desc: "Not delivering to unsubscribed address", reason: ReasonSuppressUnsubscribe, noMX: true}
	dropComplaint   = &reply{code: 607, desc: "Not delivering to a user who marked your messages as spam", reason: ReasonSuppressComplaint, noMX: true}
	dropListQuality = &reply{code: 625, desc: "Poor mailing list quality: too many invalid addresses", reason: ReasonGeneric, noMX: true}
)

// replyFor picks a reply of a class for a gateway, using h to choose among
// variants.
func replyFor(gw gateway, c replyClass, h uint64) *reply {
	list := gatewayReplies[gw][c]
	if len(list) == 0 {
		list = fallbackReplies[c]
	}
	return list[h%uint64(len(list))]
}
