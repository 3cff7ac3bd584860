//! The calls that need no Cinder work, passed to the virt driver (power
//! under the instance's lock), and `describe`, which adds what Cinder
//! reports attached.

use cinder_client::{CinderApi, InstanceId};
use dpm_driver::{
    GuestShutdown, InitError, InstanceDetails, InstanceInfo, InstanceSummary, LookupError,
    PowerError, PowerOff, RebootKind, Resources, StorageInfo, StorageModel,
};
use hmc_client::HmcApi;

use crate::flow;
use crate::Compute;

impl<H: HmcApi + 'static, C: CinderApi + 'static> Compute<H, C> {
    /// The virt driver's `init_host`.
    pub async fn init_host(&self) -> Result<(), InitError> {
        self.driver.init_host().await
    }

    /// The storage model `init_host` found.
    pub fn storage_model(&self) -> Option<StorageModel> {
        self.driver.storage_model()
    }

    /// The partition name of an instance.
    pub fn partition_name(&self, instance: &InstanceId) -> String {
        self.driver.partition_name(instance)
    }

    /// Stops the instance's partition, after a clean shutdown of its guest
    /// when `how` has a timeout; a stopped one is left alone. Says what
    /// became of the guest.
    pub async fn power_off(
        &self,
        instance: &InstanceId,
        how: PowerOff,
    ) -> Result<GuestShutdown, PowerError> {
        let _held = self.lock_instance(instance).await;
        self.driver.power_off(instance, how).await
    }

    /// Starts the instance's partition.
    pub async fn power_on(&self, instance: &InstanceId) -> Result<(), PowerError> {
        let _held = self.lock_instance(instance).await;
        self.driver.power_on(instance).await
    }

    /// Stops (if running; a soft reboot asks the guest to shut down
    /// first) and starts the instance's partition.
    pub async fn reboot(
        &self,
        instance: &InstanceId,
        kind: RebootKind,
    ) -> Result<GuestShutdown, PowerError> {
        let _held = self.lock_instance(instance).await;
        self.driver.reboot(instance, kind).await
    }

    /// The instance's power state.
    pub async fn get_info(&self, instance: &InstanceId) -> Result<InstanceInfo, LookupError> {
        self.driver.get_info(instance).await
    }

    /// The instances of this host.
    pub async fn list_instances(&self) -> Result<Vec<InstanceId>, LookupError> {
        self.driver.list_instance_uuids().await
    }

    /// This host's instances with their names, statuses and sizes.
    pub async fn list_instances_named(&self) -> Result<Vec<InstanceSummary>, LookupError> {
        self.driver.list_instances_named().await
    }

    /// The guest's console messages from sequence number `since` on.
    pub async fn console_messages(
        &self,
        instance: &InstanceId,
        since: Option<u64>,
    ) -> Result<Vec<hmc_client::OsMessage>, LookupError> {
        self.driver.console_messages(instance, since).await
    }

    /// The guest's console log.
    pub async fn get_console_output(&self, instance: &InstanceId) -> Result<String, LookupError> {
        self.driver.get_console_output(instance).await
    }

    /// What this host offers and uses.
    pub async fn get_available_resource(&self) -> Result<Resources, LookupError> {
        self.driver.get_available_resource().await
    }

    /// What reaches the instance's volumes.
    pub async fn storage_info(&self, instance: &InstanceId) -> Result<StorageInfo, LookupError> {
        self.driver.storage_info(instance).await
    }

    /// Everything about one instance, its volumes' paths included (with
    /// vHBAs they come from Cinder's attachments, so a Cinder without the
    /// attachments API gives none).
    pub async fn describe(&self, instance: &InstanceId) -> Result<InstanceDetails, LookupError> {
        let attached = match flow::choose(&self.cinder).await {
            Ok(flow) => flow.attached_volumes(&self.cinder, instance).await,
            Err(e) => {
                tracing::warn!(error = %e, "could not read Cinder's API version; volumes without paths");
                Vec::new()
            }
        };
        self.driver.describe(instance, &attached).await
    }
}
