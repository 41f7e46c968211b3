package upstream

import "github.com/certgate/certgate/ca/cms"

// The envelope structures moved to ca/cms; these names keep the SCEP
// fake reading the gateway's requests as it did.
type (
	envContentInfo = cms.ContentInfo
	envelopedData  = cms.EnvelopedData
)
