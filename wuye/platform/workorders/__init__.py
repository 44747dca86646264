"""Work orders (工单): repairs opened by alarms or staff, dispatched to technicians under SLAs."""
