package scep

import (
	smallscep "github.com/smallstep/scep"

	"github.com/certgate/certgate/enroll"
)

// failInfo maps an enrollment failure reason to RFC 8894 §3.2.1.4.5. SCEP
// has no "unauthorised" or "try later": a wrong challenge is badRequest, as
// NDES and every SCEP client expect, and so is a temporary failure.
func failInfo(r enroll.Reason) smallscep.FailInfo {
	switch r {
	case enroll.BadMessageCheck:
		return smallscep.BadMessageCheck
	case enroll.BadAlg:
		return smallscep.BadAlg
	case enroll.BadTime:
		return smallscep.BadTime
	case enroll.BadCertID:
		return smallscep.BadCertID
	default:
		return smallscep.BadRequest
	}
}

// failInfoName and messageTypeName name attribute values for logs and
// metrics. smallstep/scep's String methods panic on values they do not
// know, and message types come from the network.
func failInfoName(fi smallscep.FailInfo) string {
	switch fi {
	case smallscep.BadAlg:
		return "badAlg"
	case smallscep.BadMessageCheck:
		return "badMessageCheck"
	case smallscep.BadRequest:
		return "badRequest"
	case smallscep.BadTime:
		return "badTime"
	case smallscep.BadCertID:
		return "badCertId"
	}
	return "unknown"
}

func messageTypeName(t smallscep.MessageType) string {
	switch t {
	case smallscep.CertRep:
		return "CertRep"
	case smallscep.RenewalReq:
		return "RenewalReq"
	case smallscep.UpdateReq:
		return "UpdateReq"
	case smallscep.PKCSReq:
		return "PKCSReq"
	case smallscep.CertPoll:
		return "CertPoll"
	case smallscep.GetCert:
		return "GetCert"
	case smallscep.GetCRL:
		return "GetCRL"
	}
	return "unknown"
}
