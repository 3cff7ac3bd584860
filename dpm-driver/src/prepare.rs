//! What exists before Cinder can be asked for a volume: the instance's
//! partition and its initiators (`get_volume_connector`,
//! `prepare_for_spawn`), found by name or made, idempotent; and the
//! read-only lookup the other operations share (`locate`).

use cinder_client::{Connector, InstanceId};
use hmc_client::{HmcApi, PartitionCreate, PartitionUri};

use crate::driver::DpmDriver;
use crate::values::{Instance, Located, PlannedVolume};

use crate::error::{ConnectorError, ConnectorStep, LookupError};
use crate::name::partition_description;

impl<H: HmcApi> DpmDriver<H> {
    /// What the instance has on the HMC (its partition and initiators),
    /// read-only; `None` when it has no partition.
    pub async fn locate(&self, instance: &InstanceId) -> Result<Option<Located>, LookupError> {
        let ready = self.ready()?;
        ready
            .storage
            .locate(&self.host, &ready.ports, instance)
            .await
    }

    /// Nova's `get_volume_connector`: the connector Cinder needs for the
    /// instance (its initiators' WWPNs). **Ensures** the partition and its
    /// initiators exist (z13: one vHBA per adapter mapping; z14+: the
    /// instance's storage group with the mapped ports as candidates):
    /// found by name when they are there (a running instance is only
    /// read), made when not, so it serves Nova's boot, rebuild, evacuate
    /// and hot-attach paths alike. Twice in a row gives the same WWPNs.
    #[tracing::instrument(name = "get_volume_connector", skip_all, fields(instance = %instance.uuid))]
    pub async fn get_volume_connector(
        &self,
        instance: &Instance,
    ) -> Result<Connector, ConnectorError> {
        let fail = |step| ConnectorError {
            instance: instance.uuid.clone(),
            step,
            made_partition: false,
        };
        let ready = self.ready().map_err(|e| fail(e.into()))?;
        let found = self
            .locate(&instance.uuid)
            .await
            .map_err(|e| fail(e.into()))?;
        let located = match found {
            Some(l) if l.initiators.wwpns().len() == ready.ports.len() => l,
            _ => self.prepare_for_spawn(instance, &[]).await?,
        };
        self.connector(&located)
            .map_err(|e| fail(ConnectorStep::Connector(e)))
    }

    /// Nova's `prepare_for_spawn`, with the volumes planned for the
    /// instance (`planned`; Nova's layer reads them from the block device
    /// mappings, and may pass none): makes the partition and its
    /// initiators, or finds them by name (idempotent), and with storage
    /// groups requests each planned volume in the instance's group, in the
    /// group's create. Returns what it found or made; its
    /// [`Located::created`] says whether anything of the instance existed.
    #[tracing::instrument(name = "prepare_for_spawn", skip_all, fields(instance = %instance.uuid, partition = tracing::field::Empty))]
    pub async fn prepare_for_spawn(
        &self,
        instance: &Instance,
        planned: &[PlannedVolume],
    ) -> Result<Located, ConnectorError> {
        let fail = |step, made_partition| ConnectorError {
            instance: instance.uuid.clone(),
            step,
            made_partition,
        };
        let ready = self.ready().map_err(|e| fail(e.into(), false))?;
        self.check_flavor(instance)
            .map_err(|e| fail(e.into(), false))?;
        let (partition, fresh) = self
            .create_partition(instance)
            .await
            .map_err(|e| fail(e, false))?;
        tracing::Span::current().record("partition", tracing::field::display(&partition));
        let (initiators, existed) = ready
            .storage
            .ensure(
                &self.host,
                &ready.ports,
                &instance.uuid,
                &partition,
                fresh,
                planned,
            )
            .await
            .map_err(|e| fail(e, fresh))?;
        Ok(Located {
            instance: instance.uuid.clone(),
            partition,
            initiators,
            created: fresh && !existed,
        })
    }

    /// Nova's `failed_spawn_cleanup`: removes what `prepare_for_spawn`
    /// made (the partition, with its vHBAs, and the instance's storage
    /// group). Idempotent; an instance with nothing left is success.
    pub async fn failed_spawn_cleanup(
        &self,
        instance: &InstanceId,
    ) -> Result<(), crate::DestroyError> {
        self.destroy(instance).await.map(drop)
    }

    /// Creates the partition (`true`), or finds the one of the instance's
    /// name (`false`: it existed, or a lost reply leaves it unknown
    /// whether this create made it).
    async fn create_partition(
        &self,
        instance: &Instance,
    ) -> Result<(PartitionUri, bool), ConnectorStep> {
        let name = self.partition_name(&instance.uuid);
        let props = PartitionCreate {
            description: Some(partition_description(
                &self.config.host,
                &instance.uuid,
                instance.name.as_ref(),
            )),
            partition_type: Some("linux".into()),
            processor_mode: Some("shared".into()),
            ..PartitionCreate::new(&name, instance.vcpus, instance.memory_mb)
        };
        let e = match self.hmc.create_partition(self.cpc(), &props).await {
            Ok(uri) => return Ok((uri, true)),
            Err(e) => e,
        };
        // A duplicate name is a 409; a lost reply may have made it.
        if e.status_reason().map(|(s, _)| s) != Some(409) && !e.may_have_taken_effect() {
            return Err(ConnectorStep::CreatePartition { name, source: e });
        }
        match self.find_partition(&instance.uuid).await? {
            Some(uri) => {
                tracing::info!(partition = %uri, "the instance's partition exists");
                Ok((uri, false))
            }
            None => Err(ConnectorStep::CreatePartition { name, source: e }),
        }
    }
}
