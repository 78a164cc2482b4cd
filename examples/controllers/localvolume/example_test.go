package localvolume_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/examples/controllers/localvolume"
)

// A StorageClass the provisioner serves.
func Example() {
	mode := storage.VolumeBindingWaitForFirstConsumer
	sc := &storage.StorageClass{Provisioner: localvolume.ProvisionerName, VolumeBindingMode: &mode}
	sc.Name = "local-path"
	fmt.Println(sc.Name, sc.Provisioner, *sc.VolumeBindingMode)
	// Output:
	// local-path setpoint.dev/local-path WaitForFirstConsumer
}
