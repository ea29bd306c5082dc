// cert-manager's controller for the local test cluster, from cert-manager's own packages
// (github.com/cert-manager/cert-manager v1.18.2, served by the Go module proxy).
//
// Why this file: upstream's program lives in a module of its own
// (github.com/cert-manager/cert-manager/cmd/controller) that is never published to the module
// proxy, so it cannot be built here; its controllers, issuers and API are all in the main
// module. This does what that program's start-up does for the controllers the tests need
// (Issuers of type selfSigned and ca, Certificates, CertificateRequests and their approval),
// without leader election, ACME, Vault, Venafi, the ingress shim or the webhook. The controllers
// run unchanged.
package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/metrics"

	// Each registers itself with controllerpkg (or with the issuer registry) when imported.
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// The names the packages above register under (as upstream's --controllers flag spells them).
var controllers = []string{
	"issuers",
	"certificaterequests-approver",
	"certificaterequests-issuer-ca",
	"certificaterequests-issuer-selfsigned",
	"certificates-trigger",
	"certificates-issuing",
	"certificates-key-manager",
	"certificates-request-manager",
	"certificates-readiness",
	"certificates-revision-manager",
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig; empty: the pod's service account")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager", "where ClusterIssuers keep their Secrets")
	klog.InitFlags(nil)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := klog.FromContext(ctx)

	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         *kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		Clock:              clock.RealClock{},
		Metrics:            metrics.New(log, clock.RealClock{}),
		IssuerOptions:      controllerpkg.IssuerOptions{ClusterResourceNamespace: *clusterResourceNamespace},
		CertificateOptions: controllerpkg.CertificateOptions{EnableOwnerRef: true},
	})
	if err != nil {
		klog.Fatalf("building the controller context: %v", err)
	}
	for _, name := range controllers {
		construct, ok := controllerpkg.Known()[name]
		if !ok {
			klog.Fatalf("controller %s is not registered", name)
		}
		controller, err := construct(factory)
		if err != nil {
			klog.Fatalf("constructing controller %s: %v", name, err)
		}
		go func() {
			if err := controller.Run(2, ctx); err != nil {
				klog.Errorf("controller %s stopped: %v", name, err)
				stop()
			}
		}()
	}
	// The controllers registered their informers with the shared factories: start them.
	shared, err := factory.Build()
	if err != nil {
		klog.Fatalf("building the informers: %v", err)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	log.Info("cert-manager controllers started", "controllers", controllers)
	<-ctx.Done()
}
